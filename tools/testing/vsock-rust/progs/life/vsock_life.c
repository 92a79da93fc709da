// SPDX-License-Identifier: GPL-2.0
/*
 * vsock_life: the socket ends of the guest driver's life-cycle tests
 * (suites/guestlife.sh), in the L1 host and in the nested L2 guest.
 * Static, so that it runs from L2's bare initramfs.  Only ever run inside
 * the test VMs.
 *
 *   vsock_life cid
 *	print the local CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock)
 *   vsock_life serve PORT [LINGER]
 *	echo server, one process per connection; prints "serve: up" once
 *	listening and one line per connection when it ends:
 *	"serve: CID:PORT end eof|ERRNO bytes N"; a connection that ends with
 *	an error stays open for LINGER more seconds (default 0), so that what
 *	the peer sends meanwhile reaches a socket that was reset
 *   vsock_life hold CID PORT [SECONDS]
 *	connect, check one echo ("hold: up local CID:PORT"), then wait for
 *	the connection to end and print how it ended:
 *	"hold: end so_error=0|ERRNO read=eof|data|ERRNO"; SIGUSR1 sends a
 *	probe line, "hold: probe echoed" when the peer echoes it back;
 *	"hold: end timeout" after SECONDS (default 600)
 *   vsock_life xfer CID PORT BYTES [SECONDS]
 *	send BYTES through an echo server, reading them back concurrently,
 *	and check every byte: "xfer: ok BYTES bytes in S s (R MiB/s)";
 *	"xfer: reset eof|ERRNO so_error=ERRNO after N bytes sent, M received"
 *	(exit 2) when the connection breaks, "xfer: stalled ..." (exit 3)
 *	when nothing moves for SECONDS (default 20), anything else exits 1
 *   vsock_life churn CID PORT SECONDS
 *	short echo connections, one after the other, for SECONDS or until
 *	SIGTERM: "churn: N ok, M failed (ERRNO: K, ...)", the errors of the
 *	failed connection attempts (failures are expected while the driver
 *	is away, and on a port without listener; exit 0 when the last one
 *	worked)
 *
 * ERRNO is the errno's name (ECONNRESET, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "E?";
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_cid(void)
{
	unsigned int cid = 0;
	int fd = open("/dev/vsock", O_RDONLY);

	if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid)) {
		printf("cid: error %s\n", ename(errno));
		return 1;
	}
	printf("%u\n", cid);
	return 0;
}

/* A connected stream socket, or -1 with errno set.  Connection attempts
 * are retried for up to `tries` tenths of a second while the peer refuses
 * or is not there yet.
 */
static int vconnect(unsigned int cid, unsigned int port, int tries)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	int fd, e;

	for (;;) {
		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		e = errno;
		close(fd);
		errno = e;
		if (--tries <= 0)
			return -1;
		usleep(100 * 1000);
	}
}

/* Writes all of buf; 0 or an errno. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int cmd_serve(unsigned int port, int linger)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 64)) {
		printf("serve: error %s\n", ename(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	printf("serve: up port %u\n", port);
	for (;;) {
		struct sockaddr_vm peer;
		socklen_t plen = sizeof(peer);
		int c = accept(fd, (struct sockaddr *)&peer, &plen);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNRESET || errno == ECONNABORTED)
				continue;
			printf("serve: accept error %s\n", ename(errno));
			return 1;
		}
		if (fork() == 0) {
			static char buf[65536];
			unsigned long long bytes = 0;
			int err = 0;
			ssize_t n;

			close(fd);
			for (;;) {
				n = read(c, buf, sizeof(buf));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					err = n < 0 ? errno : 0;
					break;
				}
				bytes += n;
				err = write_all(c, buf, n);
				if (err)
					break;
			}
			printf("serve: %u:%u end %s bytes %llu\n", peer.svm_cid,
			       peer.svm_port, err ? ename(err) : "eof", bytes);
			if (err && linger > 0)
				sleep(linger);
			_exit(0);
		}
		close(c);
	}
}

static volatile sig_atomic_t probe_pending;

static void on_usr1(int sig)
{
	(void)sig;
	probe_pending = 1;
}

static int cmd_hold(unsigned int cid, unsigned int port, int seconds)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct sockaddr_vm local;
	socklen_t llen = sizeof(local);
	double deadline = now() + seconds;
	char buf[256];
	size_t have = 0;
	int fd, err;
	ssize_t n;

	sigset_t block, waitmask;

	/* SIGUSR1 only arrives inside ppoll(), which it interrupts (no
	 * SA_RESTART): no probe is lost between the check and the wait.
	 */
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	fd = vconnect(cid, port, 300);
	if (fd < 0) {
		printf("hold: connect error %s\n", ename(errno));
		return 1;
	}
	if (write_all(fd, "hold\n", 5)) {
		printf("hold: write error %s\n", ename(errno));
		return 1;
	}
	while (have < 5) {
		n = read(fd, buf + have, 5 - have);
		if (n <= 0) {
			printf("hold: no echo (%s)\n", n ? ename(errno) : "eof");
			return 1;
		}
		have += n;
	}
	getsockname(fd, (struct sockaddr *)&local, &llen);
	printf("hold: up local %u:%u\n", local.svm_cid, local.svm_port);

	have = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - now();
		struct timespec ts = { .tv_sec = (time_t)left,
				       .tv_nsec = (long)((left - (time_t)left) * 1e9) };
		int r;

		if (probe_pending) {
			probe_pending = 0;
			err = write_all(fd, "probe\n", 6);
			printf("hold: probe sent%s%s\n", err ? " error " : "", err ? ename(err) : "");
		}
		if (left <= 0) {
			printf("hold: end timeout\n");
			return 1;
		}
		r = ppoll(&p, 1, &ts, &waitmask);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		/* SO_ERROR first: it is what the reset left (and clears it). */
		socklen_t elen = sizeof(err);

		err = 0;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n > 0) {
			have += n;
			buf[have] = '\0';
			if (strstr(buf, "probe\n")) {
				printf("hold: probe echoed\n");
				have = 0;
			} else if (have >= sizeof(buf) - 1) {
				have = 0;
			}
			if (!err)
				continue;
		}
		printf("hold: end so_error=%s read=%s\n", ename(err),
		       n > 0 ? "data" : n == 0 ? "eof" : ename(errno));
		return 0;
	}
}

static unsigned char pattern(unsigned long long i)
{
	return (unsigned char)(i * 131 + (i >> 11) * 7 + (i >> 19));
}

static int cmd_xfer(unsigned int cid, unsigned int port, unsigned long long bytes,
		    int stall)
{
	static unsigned char out[65536], in[65536];
	unsigned long long sent = 0, got = 0;
	double t0 = now(), dt;
	int fd = vconnect(cid, port, 100);

	if (fd < 0) {
		printf("xfer: connect error %s\n", ename(errno));
		return 1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < bytes) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r;

		if (sent < bytes)
			p.events |= POLLOUT;
		r = poll(&p, 1, stall * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			printf("xfer: stalled after %llu bytes sent, %llu received\n", sent, got);
			return 3;
		}
		if ((p.revents & POLLOUT) && sent < bytes) {
			size_t len = bytes - sent < sizeof(out) ? bytes - sent : sizeof(out);
			size_t i;

			for (i = 0; i < len; i++)
				out[i] = pattern(sent + i);
			n = write(fd, out, len);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				goto broken;
			if (n > 0)
				sent += n;
		}
		if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
			n = read(fd, in, sizeof(in));
			if (n == 0) {
				errno = 0;
				goto broken;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				goto broken;
			for (ssize_t i = 0; i < n; i++) {
				if (in[i] != pattern(got + i)) {
					printf("xfer: mismatch at byte %llu\n", got + i);
					return 1;
				}
			}
			if (n > 0)
				got += n;
		}
	}
	dt = now() - t0;
	printf("xfer: ok %llu bytes in %.2f s (%.1f MiB/s)\n", bytes, dt,
	       bytes / dt / 1048576);
	close(fd);
	return 0;
broken:
	{
		int e = errno, soerr = 0;
		socklen_t elen = sizeof(soerr);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen);
		printf("xfer: reset %s so_error=%s after %llu bytes sent, %llu received\n",
		       e ? ename(e) : "eof", ename(soerr), sent, got);
	}
	return 2;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_churn(unsigned int cid, unsigned int port, int seconds)
{
	struct sigaction sa = { .sa_handler = on_term };
	double end = now() + seconds;
	int ok = 0, bad = 0, last = 1, errs[200] = { 0 }, e, n;

	/* No SA_RESTART: a blocked connect() or read() returns at once. */
	sigaction(SIGTERM, &sa, NULL);
	while (now() < end && !stop) {
		char buf[8];
		int fd = vconnect(cid, port, 1), good = 0;

		if (fd < 0 && !stop && errno > 0 && errno < 200)
			errs[errno]++;
		if (fd >= 0) {
			struct timeval tv = { .tv_sec = 5 };

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			good = !write_all(fd, "churn\n", 6) && read(fd, buf, 6) == 6 &&
			       !memcmp(buf, "churn\n", 6);
			close(fd);
		}
		if (stop)
			break;
		if (good) {
			ok++;
		} else {
			bad++;
			usleep(50 * 1000);
		}
		last = !good;
	}
	printf("churn: %d ok, %d failed (", ok, bad);
	for (e = 1, n = 0; e < 200; e++)
		if (errs[e])
			printf("%s%s: %d", n++ ? ", " : "", ename(e), errs[e]);
	printf(")\n");
	return last;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A write after the peer's reset fails with EPIPE, which every
	 * command reports; the signal would end the program without a
	 * word (an xfer whose write comes before its read of the reset). */
	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && !strcmp(argv[1], "cid"))
		return cmd_cid();
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "serve"))
		return cmd_serve(strtoul(argv[2], NULL, 0), argc == 4 ? atoi(argv[3]) : 0);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "hold"))
		return cmd_hold(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
				argc == 5 ? atoi(argv[4]) : 600);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "xfer"))
		return cmd_xfer(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
				strtoull(argv[4], NULL, 0), argc == 6 ? atoi(argv[5]) : 20);
	if (argc == 5 && !strcmp(argv[1], "churn"))
		return cmd_churn(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
				 atoi(argv[4]));
	fprintf(stderr, "usage: %s cid | serve PORT [LINGER] | hold CID PORT [SECONDS] | "
		"xfer CID PORT BYTES [SECONDS] | churn CID PORT SECONDS\n", argv[0]);
	return 2;
}
