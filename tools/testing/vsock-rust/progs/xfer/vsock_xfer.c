// SPDX-License-Identifier: GPL-2.0
/*
 * vsock_xfer: bulk transfers checked byte for byte, and an echo client, over
 * AF_VSOCK or over the Unix sockets of a vhost-user vsock device
 * (rust-vmm's vhost-device-vsock).
 *
 *   vsock_xfer [-r FILE] [-w SIZE] send ADDR BYTES [SEED]
 *   vsock_xfer [-r FILE] recv ADDR BYTES [SEED]
 *   vsock_xfer echo ADDR MESSAGE
 *
 * ADDR is one of
 *   vsock:CID:PORT      connect (retried for 30 s while refused or reset)
 *   vsock-listen:PORT   listen on any CID and accept one connection
 *   unix:PATH           connect
 *   unix-listen:PATH    listen and accept one connection (PATH is replaced)
 *   vhu:PATH:PORT       connect to the host-side socket PATH of
 *                       vhost-device-vsock, send "CONNECT PORT\n" and wait
 *                       for its "OK ..." line; nothing is sent before the
 *                       reply (the device drops bytes that come with the
 *                       CONNECT line).  Retried for 60 s.
 *
 * send writes BYTES (suffix K, M or G) of a deterministic pattern (SEED,
 * default 1) and waits for the receiver's one-byte verdict; recv reads
 * exactly BYTES, compares every byte with the pattern and answers 'K' (all
 * equal) or 'X'.  Neither relies on a half-close (vhost-device-vsock does
 * not forward one).  echo sends MESSAGE and reads back as many bytes, which
 * must be equal.  -r FILE: create FILE once listening (listen modes).
 * -w SIZE: write() at most SIZE bytes at a time (default and maximum
 * 256 KiB).  A guest's write of more than about 32 KiB goes out in
 * nonlinear skbs, one descriptor per fragment, which vhost-device-vsock
 * 0.3.0 drops (it takes the payload from one descriptor only).  Any
 * read or write that makes no progress for XFER_STALL seconds (default 60)
 * fails the run.  XFER_MARK=FILE: create FILE once 1 MiB has been sent or
 * received (suites/sigkill.sh: the transfer is flowing).  Exit status 0 on
 * success.
 *
 * AF_VSOCK modes only ever run inside the test VMs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define CHUNK (256 * 1024)

static const char *ready_file;
static int stall_s = 60;
static size_t write_size = CHUNK;
static const char *mark_file;

/* mark: XFER_MARK's file, once, when off has passed 1 MiB. */
static void mark(uint64_t off)
{
	int fd;

	if (!mark_file || off < (1 << 20))
		return;
	fd = open(mark_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
	mark_file = NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "vsock_xfer: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Pattern: 64-bit word k of the stream is splitmix64 of (SEED, k), little
 * endian. */
static uint64_t word(uint64_t seed, uint64_t k)
{
	uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill(unsigned char *buf, uint64_t off, size_t n, uint64_t seed)
{
	while (n) {
		uint64_t w = word(seed, off >> 3);
		unsigned int s = off & 7, i;
		size_t c = 8 - s;

		if (c > n)
			c = n;
		for (i = 0; i < c; i++)
			buf[i] = w >> (8 * (s + i));
		buf += c;
		off += c;
		n -= c;
	}
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = stall_s };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		die("setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)");
}

static void mark_ready(const char *addr)
{
	printf("vsock_xfer: listening on %s\n", addr);
	fflush(stdout);
	if (ready_file) {
		int fd = open(ready_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			die(ready_file);
		close(fd);
	}
}

static int accept_one(int lfd, const char *addr)
{
	int fd;

	if (listen(lfd, 1))
		die("listen");
	mark_ready(addr);
	do
		fd = accept(lfd, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("accept");
	close(lfd);
	return fd;
}

static int unix_socket(const char *path, struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket(AF_UNIX)");
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		fprintf(stderr, "vsock_xfer: path too long: %s\n", path);
		exit(2);
	}
	strcpy(sun->sun_path, path);
	return fd;
}

/* Reads one line (up to '\n') within 10 s; 0 on success. */
static int read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 10000) != 1 || read(fd, line + n, 1) != 1)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	return 0;
}

static int vhu_connect(const char *path, unsigned int port)
{
	double deadline = now() + 60;
	char line[128];

	for (;;) {
		struct sockaddr_un sun;
		int fd = unix_socket(path, &sun);
		int len;

		if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
			len = snprintf(line, sizeof(line), "CONNECT %u\n", port);
			if (write(fd, line, len) == len &&
			    !read_line(fd, line, sizeof(line)) &&
			    !strncmp(line, "OK", 2))
				return fd;
		}
		close(fd);
		if (now() > deadline) {
			fprintf(stderr, "vsock_xfer: no OK from %s for port %u within 60 s\n",
				path, port);
			exit(1);
		}
		usleep(200 * 1000);
	}
}

static int vsock_connect(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm svm = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	double deadline = now() + 30;

	for (;;) {
		int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket(AF_VSOCK)");
		if (!connect(fd, (struct sockaddr *)&svm, sizeof(svm)))
			return fd;
		if ((errno != ECONNREFUSED && errno != ECONNRESET) || now() > deadline)
			die("connect");
		close(fd);
		usleep(100 * 1000);
	}
}

static int open_addr(const char *addr)
{
	unsigned int cid, port;
	char path[256];
	int fd;

	if (sscanf(addr, "vsock:%u:%u", &cid, &port) == 2) {
		fd = vsock_connect(cid, port);
	} else if (sscanf(addr, "vsock-listen:%u", &port) == 1) {
		struct sockaddr_vm svm = {
			.svm_family = AF_VSOCK,
			.svm_cid = VMADDR_CID_ANY,
			.svm_port = port,
		};

		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&svm, sizeof(svm)))
			die("socket/bind(AF_VSOCK)");
		fd = accept_one(fd, addr);
	} else if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un sun;

		fd = unix_socket(addr + 5, &sun);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
			die(addr);
	} else if (!strncmp(addr, "unix-listen:", 12)) {
		struct sockaddr_un sun;

		fd = unix_socket(addr + 12, &sun);
		unlink(addr + 12);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
			die(addr);
		fd = accept_one(fd, addr);
	} else if (sscanf(addr, "vhu:%255[^:]:%u", path, &port) == 2) {
		fd = vhu_connect(path, port);
	} else {
		fprintf(stderr, "vsock_xfer: bad address '%s'\n", addr);
		exit(2);
	}
	set_timeouts(fd);
	return fd;
}

static uint64_t parse_bytes(const char *s)
{
	char *end;
	uint64_t n = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': n <<= 10; /* fall through */
	case 'M': n <<= 10; /* fall through */
	case 'K': n <<= 10; end++; break;
	}
	if (*end || !n) {
		fprintf(stderr, "vsock_xfer: bad size '%s'\n", s);
		exit(2);
	}
	return n;
}

static void report(const char *what, const char *addr, uint64_t bytes, double t)
{
	printf("vsock_xfer: %s %llu bytes, %s, in %.2f s (%.1f MiB/s)\n", what,
	       (unsigned long long)bytes, addr, t, bytes / t / (1 << 20));
}

static int do_send(const char *addr, uint64_t bytes, uint64_t seed)
{
	static unsigned char buf[CHUNK];
	uint64_t off = 0;
	double start;
	char verdict;
	int fd = open_addr(addr);

	start = now();
	while (off < bytes) {
		size_t n = bytes - off < CHUNK ? bytes - off : CHUNK, done = 0;

		fill(buf, off, n, seed);
		while (done < n) {
			size_t len = n - done < write_size ? n - done : write_size;
			ssize_t w = write(fd, buf + done, len);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				fprintf(stderr, "vsock_xfer: write at byte %llu: %s\n",
					(unsigned long long)(off + done),
					w ? strerror(errno) : "wrote nothing");
				return 1;
			}
			done += w;
		}
		off += n;
		mark(off);
	}
	if (read(fd, &verdict, 1) != 1) {
		fprintf(stderr, "vsock_xfer: no verdict from the receiver: %s\n",
			strerror(errno));
		return 1;
	}
	report("sent", addr, bytes, now() - start);
	close(fd);
	if (verdict != 'K') {
		fprintf(stderr, "vsock_xfer: the receiver found a difference\n");
		return 1;
	}
	printf("vsock_xfer: the receiver checked every byte\n");
	return 0;
}

static int do_recv(const char *addr, uint64_t bytes, uint64_t seed)
{
	static unsigned char buf[CHUNK], want[CHUNK];
	uint64_t off = 0, bad_at = 0;
	int bad = 0, fd = open_addr(addr);
	double start = now();

	while (off < bytes) {
		size_t n = bytes - off < CHUNK ? bytes - off : CHUNK;
		ssize_t r = read(fd, buf, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "vsock_xfer: read at byte %llu of %llu: %s\n",
				(unsigned long long)off, (unsigned long long)bytes,
				r ? strerror(errno) : "end of stream");
			return 1;
		}
		if (!bad) {
			fill(want, off, r, seed);
			if (memcmp(buf, want, r)) {
				size_t i = 0;

				while (buf[i] == want[i])
					i++;
				bad = 1;
				bad_at = off + i;
			}
		}
		off += r;
		mark(off);
	}
	report("received", addr, bytes, now() - start);
	if (write(fd, bad ? "X" : "K", 1) != 1)
		fprintf(stderr, "vsock_xfer: sending the verdict: %s\n", strerror(errno));
	close(fd);
	if (bad) {
		fprintf(stderr, "vsock_xfer: first wrong byte at offset %llu\n",
			(unsigned long long)bad_at);
		return 1;
	}
	printf("vsock_xfer: every byte as sent\n");
	return 0;
}

static int do_echo(const char *addr, const char *msg)
{
	size_t len = strlen(msg), got = 0;
	char *buf = malloc(len + 1);
	int fd = open_addr(addr);

	if (!buf)
		die("malloc");
	if (write(fd, msg, len) != (ssize_t)len)
		die("write");
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r <= 0)
			break;
		got += r;
	}
	buf[got] = '\0';
	printf("vsock_xfer: sent '%s' to %s, got '%s'\n", msg, addr, buf);
	close(fd);
	return got == len && !memcmp(buf, msg, len) ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *s = getenv("XFER_STALL");

	if (s)
		stall_s = atoi(s);
	mark_file = getenv("XFER_MARK");
	/* A reset connection fails a write with EPIPE, and says so. */
	signal(SIGPIPE, SIG_IGN);
	while (argc > 2 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-r")) {
			ready_file = argv[2];
		} else if (!strcmp(argv[1], "-w")) {
			write_size = parse_bytes(argv[2]);
			if (write_size > CHUNK)
				write_size = CHUNK;
		} else {
			break;
		}
		argc -= 2;
		argv += 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "send"))
		return do_send(argv[2], parse_bytes(argv[3]),
			       argc == 5 ? strtoull(argv[4], NULL, 0) : 1);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], parse_bytes(argv[3]),
			       argc == 5 ? strtoull(argv[4], NULL, 0) : 1);
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return do_echo(argv[2], argv[3]);
	fprintf(stderr, "usage: vsock_xfer [-r FILE] [-w SIZE] send|recv ADDR BYTES [SEED] | echo ADDR MESSAGE\n");
	return 2;
}
