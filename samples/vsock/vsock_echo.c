// SPDX-License-Identifier: GPL-2.0
/*
 * vsock_echo: a minimal AF_VSOCK echo server and client.
 *
 *   vsock_echo server PORT            echo every connection back (forever)
 *   vsock_echo client CID PORT MSG    send MSG, print the reply; exit 0 when
 *                                     the reply equals MSG
 *
 * Built static so that it also runs from a bare initramfs (the nested L2
 * guest of the test harness).  Only ever run inside the test VMs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int serve(unsigned int port)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 16)) {
		perror("vsock_echo: server");
		return 1;
	}
	printf("vsock_echo: listening on port %u\n", port);
	fflush(stdout);
	for (;;) {
		char buf[4096];
		ssize_t n;
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("vsock_echo: accept");
			return 1;
		}
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, n) != n)
				break;
		close(c);
	}
}

static int client(unsigned int cid, unsigned int port, const char *msg)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	size_t len = strlen(msg), got = 0;
	char buf[4096];
	int fd = -1, tries;

	/* The server may still be starting: retry for up to 30 s. */
	for (tries = 0; tries < 300; tries++) {
		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0) {
			perror("vsock_echo: socket");
			return 1;
		}
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			break;
		close(fd);
		fd = -1;
		usleep(100 * 1000);
	}
	if (fd < 0) {
		perror("vsock_echo: connect");
		return 1;
	}
	if (len >= sizeof(buf) || write(fd, msg, len) != (ssize_t)len) {
		perror("vsock_echo: write");
		return 1;
	}
	shutdown(fd, SHUT_WR);
	while (got < len) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	printf("vsock_echo: sent '%s' to %u:%u, got '%s'\n", msg, cid, port, buf);
	close(fd);
	return strcmp(buf, msg) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return serve(strtoul(argv[2], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0), argv[4]);
	fprintf(stderr, "usage: %s server PORT | client CID PORT MSG\n", argv[0]);
	return 2;
}
