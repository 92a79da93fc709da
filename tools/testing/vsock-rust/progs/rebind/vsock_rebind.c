// SPDX-License-Identifier: GPL-2.0
/*
 * vsock_rebind: how soon a client's local port is free again after it
 * closes a connection.  The close sends SHUTDOWN; the peer, which has read
 * nothing and holds no data, answers with RST at once (upstream's
 * virtio_transport_recv_connected), and only that RST unbinds the closing
 * socket before its 8 s close timeout.  Upstream's vsock_test case "double
 * bind connect" relies on it: its client binds the same port again as soon
 * as the server, woken by the SHUTDOWN, says so over the TCP control
 * channel.
 *
 *   vsock_rebind server PORT N
 *   vsock_rebind client CID PORT LOCAL_PORT N
 *
 * The server accepts N connections on PORT, waits for each to be shut down
 * by the peer (POLLRDHUP) and keeps it open, as vsock_test's server does.
 * The client, N times: binds LOCAL_PORT, connects to CID:PORT, closes, then
 * binds LOCAL_PORT again every 100 us until that succeeds (at most 12 s),
 * and prints the time from its close() to the successful bind():
 *
 *   rebind ms: n=N min=A median=B p90=C max=D over_100ms=E
 *
 * Exit status 0 when every round's port was free again within 1 s: freed by
 * the RST, sent as the reply to the SHUTDOWN, not by the close timeout (8 s)
 * or anything else deferred (RSTs took milliseconds, at most 75 ms, under
 * nested TCG).  The times below that are reported, not judged.
 * AF_VSOCK: only ever run inside the test VMs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#define MAX_ROUNDS 500

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int bound_socket(unsigned int port)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int server(unsigned int port, int n)
{
	int lfd = bound_socket(port);

	if (lfd < 0)
		die("bind");
	if (listen(lfd, 16) < 0)
		die("listen");
	printf("listening on %u\n", port);
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		struct pollfd p;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			die("accept");
		p.fd = fd;
		p.events = POLLRDHUP;
		switch (poll(&p, 1, 30000)) {
		case 1:
			break;
		case 0:
			fprintf(stderr, "round %d: no shutdown from the peer in 30 s\n", i);
			return 1;
		default:
			die("poll");
		}
		/* Kept open, as vsock_test's server keeps its sockets. */
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int client(unsigned int cid, unsigned int port, unsigned int lport, int n)
{
	static double t[MAX_ROUNDS];
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	int over = 0, late = 0;

	for (int i = 0; i < n; i++) {
		double t0, deadline;
		int fd = bound_socket(lport);

		if (fd < 0)
			die("bind");
		/* The first round waits for the server to listen. */
		deadline = now_ms() + 30000;
		while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if ((errno != ECONNRESET && errno != ECONNREFUSED &&
			     errno != ETIMEDOUT) || now_ms() > deadline)
				die("connect");
			close(fd);
			usleep(100000);
			fd = bound_socket(lport);
			if (fd < 0)
				die("bind");
		}
		t0 = now_ms();
		close(fd);
		while ((fd = bound_socket(lport)) < 0) {
			if (errno != EADDRINUSE || now_ms() - t0 > 12000) {
				fprintf(stderr, "round %d: ", i);
				die("bind again");
			}
			usleep(100);
		}
		t[i] = now_ms() - t0;
		close(fd);
		if (t[i] > 100)
			over++;
		if (t[i] >= 1000) {
			fprintf(stderr, "round %d: port free only after %.0f ms (no RST?)\n",
				i, t[i]);
			late++;
		}
	}
	qsort(t, n, sizeof(t[0]), cmp);
	printf("rebind ms: n=%d min=%.2f median=%.2f p90=%.2f max=%.2f over_100ms=%d\n",
	       n, t[0], t[n / 2], t[n * 9 / 10], t[n - 1], over);
	return late ? 1 : 0;
}

int main(int argc, char **argv)
{
	/* The server keeps each connection open: N is bounded as well. */
	if (argc == 4 && !strcmp(argv[1], "server")) {
		int n = atoi(argv[3]);

		if (n >= 1 && n <= MAX_ROUNDS)
			return server(strtoul(argv[2], NULL, 0), n);
	}
	if (argc == 6 && !strcmp(argv[1], "client")) {
		int n = atoi(argv[5]);

		if (n >= 1 && n <= MAX_ROUNDS)
			return client(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
				      strtoul(argv[4], NULL, 0), n);
	}
	fprintf(stderr, "usage: vsock_rebind server PORT N\n"
		"       vsock_rebind client CID PORT LOCAL_PORT N\n"
		"(1 <= N <= %d)\n", MAX_ROUNDS);
	return 2;
}
