// SPDX-License-Identifier: GPL-2.0
/*
 * vsock_pingpong: round-trip latency over AF_VSOCK (SOCK_STREAM).
 *
 *   vsock_pingpong server PORT
 *       echo every connection back, one connection at a time, forever
 *   vsock_pingpong client CID PORT SIZE COUNT
 *       send COUNT messages of SIZE bytes, each after the previous one came
 *       back whole; print "size=S count=N median_us=M p99_us=P min_us=..
 *       p25_us=.. p75_us=.. p90_us=.." (round trips in microseconds)
 *
 * Part of vsock-rust's benchmark (make bench); runs inside the test VM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

static int xfer(int fd, char *buf, size_t len, int send_side)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send_side ? send(fd, buf + done, len - done, 0) :
					recv(fd, buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static int server(unsigned int port)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_port = port,
		.svm_cid = VMADDR_CID_ANY,
	};
	static char buf[1 << 16];
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 4)) {
		perror("vsock_pingpong: server");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);
		ssize_t n;

		if (c < 0)
			continue;
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
			if (xfer(c, buf, n, 1))
				break;
		close(c);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a;
	unsigned long long y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int client(unsigned int cid, unsigned int port, size_t size, int count)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_port = port,
		.svm_cid = cid,
	};
	unsigned long long *rtt;
	char *buf;
	int fd, i, tries;

	buf = calloc(1, size);
	rtt = calloc(count, sizeof(*rtt));
	if (!buf || !rtt || count < 1)
		return 1;
	/* The server may still be starting. */
	for (tries = 0; ; tries++) {
		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			break;
		close(fd);
		if (tries == 100) {
			perror("vsock_pingpong: connect");
			return 1;
		}
		usleep(100000);
	}
	for (i = 0; i < count; i++) {
		unsigned long long t0 = now_ns();

		if (xfer(fd, buf, size, 1) || xfer(fd, buf, size, 0)) {
			perror("vsock_pingpong: transfer");
			return 1;
		}
		rtt[i] = now_ns() - t0;
	}
	close(fd);
	qsort(rtt, count, sizeof(*rtt), cmp_u64);
	printf("size=%zu count=%d median_us=%.1f p99_us=%.1f min_us=%.1f p25_us=%.1f p75_us=%.1f p90_us=%.1f\n",
	       size, count, rtt[count / 2] / 1000.0,
	       rtt[(count * 99) / 100] / 1000.0, rtt[0] / 1000.0,
	       rtt[count / 4] / 1000.0, rtt[(count * 3) / 4] / 1000.0,
	       rtt[(count * 9) / 10] / 1000.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(strtoul(argv[2], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
			      strtoul(argv[4], NULL, 0), atoi(argv[5]));
	fprintf(stderr, "usage: %s server PORT | client CID PORT SIZE COUNT\n",
		argv[0]);
	return 2;
}
