// SPDX-License-Identifier: GPL-2.0
/*
 * vsock_bufmatrix: transfers over the vsock loopback transport (peer CID 1)
 * across a matrix of receive and send buffer sizes, SO_RCVLOWAT values,
 * socket types and writer modes; every byte is verified by the reader.
 *
 *   vsock_bufmatrix [-r SIZES] [-s SIZES] [-l LOWATS] [-t TYPES] [-w WRITERS]
 *                   [-b BYTES] [-m BYTES] [-S STALL_SECONDS] [-p BASE_PORT]
 *                   [-E] [-v]
 *
 *   -r, -s   receiver / sender SO_VM_SOCKETS_BUFFER_SIZE values, comma
 *            separated (default 128,4096,16384,32768,65536,262144,2097152)
 *   -l       receiver SO_RCVLOWAT: "1", "half" (min(rcvbuf, 64 KiB) / 2) or
 *            a number (default 1,half)
 *   -t       stream,seqpacket (default both)
 *   -w       block,nonblock (default both)
 *   -b       bytes per case, at most (default 204800); a case moves
 *            min(BYTES, 256 * min(rcvbuf, sndbuf)) bytes
 *   -m       smallest SEQPACKET message (default: window * 1 KiB / rcvbuf,
 *            see below)
 *   -S       a case fails when a recv(), or the non-blocking writer's wait
 *            for POLLOUT, waits this many seconds in vain (default 5)
 *   -p       first listener port (default 40000); case i listens on port+i
 *   -E       no expected resets: run receive buffers smaller than one
 *            sk_buff's overhead as ordinary transfers (see below)
 *   -v       a line per case, not only per failing case
 *
 * Each case is one fresh connection in one process pair: this process
 * listens (buffer sizes set on the listener before listen(), which the
 * accepted socket inherits, see __vsock_create()), sets SO_RCVLOWAT on the
 * accepted socket and reads; a forked child connects (its buffer size set
 * before connect()), writes a deterministic pseudo-random payload and
 * closes.  The reader checks every byte, and for SOCK_SEQPACKET every
 * message's length, MSG_EOR flag and the absence of MSG_TRUNC, then the
 * end of stream.  A case fails when a recv(), or a non-blocking writer's
 * poll() for POLLOUT, waits STALL_SECONDS in vain (one call for the whole
 * time, so that a lost wakeup is not hidden by retrying; the writer is then
 * killed); each failing case prints one line with its parameters and the
 * bytes moved.  Last line: "bufmatrix: N passed, M failed".
 *
 * Upstream (Linux 7.2) behaviour that shaped the cases; the C transport
 * passes all of them:
 *  - The writer's window is min(peer buf_alloc, own buf_alloc) - in flight.
 *    With a small sender buffer, "half" is more than can ever be queued, so
 *    vsock_data_ready() never wakes the reader for data; every arriving
 *    packet still wakes it (virtio_transport_recv_pkt() calls
 *    sk_write_space() when the socket may send) and recv() takes what is
 *    queued.  Those cases check that this path works too.
 *  - The receiver refuses a packet, resets the connection and reports
 *    ENOBUFS when (queued skbs + 1) * SKB_TRUESIZE(0) exceeds its buf_alloc
 *    (virtio_transport_inc_rx_pkt(); recv() returns ENOBUFS, or 0 with the
 *    error left in SO_ERROR when no recv() was waiting).  SEQPACKET messages
 *    are never merged in the receive queue, and a burst of small ones hits
 *    this limit (seen with -m 1), so messages are at least
 *    window * 1 KiB / rcvbuf bytes: at most rcvbuf / 1 KiB in flight.
 *    A receive buffer below SKB_TRUESIZE(0) (576 bytes on x86-64) refuses
 *    every packet: those cases expect the reset (receiver: ENOBUFS or
 *    ECONNRESET, from recv() or SO_ERROR, after a verified prefix; writer:
 *    an error; nobody hangs).
 *  - A SEQPACKET send that finds less room than the message sends part of
 *    it and, when it cannot wait (non-blocking, or SO_SNDTIMEO expired),
 *    returns EAGAIN with that part already sent; sending the message again
 *    then corrupts the stream of messages.  The non-blocking writer
 *    therefore sends powers of two in decreasing order: every window is a
 *    power of two, so the free space is always a multiple of the message
 *    size (zero or enough).  The blocking writer sends random sizes and has
 *    a SO_SNDTIMEO of 600 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/vm_sockets.h>

#ifndef VMADDR_CID_LOCAL
#define VMADDR_CID_LOCAL 1
#endif

#define MAX_LIST 16
#define MAX_MSG (64 * 1024)		/* largest SEQPACKET message */
#define DEFAULT_MAX_BUF (256 * 1024)	/* VSOCK_DEFAULT_BUFFER_MAX_SIZE */
#define SKB_TRUESIZE0 576		/* SKB_TRUESIZE(0) on x86-64 */
#define SKB_BUDGET 1024			/* rcvbuf bytes per queued message */

static const char *type_name(int type)
{
	return type == SOCK_STREAM ? "stream" : "seqpacket";
}

/* Options. */
static unsigned long rbufs[MAX_LIST], sbufs[MAX_LIST];
static int n_rbufs, n_sbufs;
static long lowats[MAX_LIST];	/* -1: "half" */
static int n_lowats;
static int types[2], n_types;
static int writers[2], n_writers;	/* 0 blocking, 1 non-blocking */
static size_t max_bytes = 200 * 1024;
static double stall_s = 5;
static unsigned long min_msg;	/* -m */
static unsigned int base_port = 40000;
static int expect_resets = 1;
static int verbose;

struct tcase {
	int type;
	unsigned long rbuf, sbuf;
	long lowat;
	int nonblock;
	size_t bytes;
	/* SEQPACKET: message lengths and MSG_EOR flags. */
	size_t n_msgs;
	size_t *msg_len;
	unsigned char *msg_eor;
	int expect_reset;
	unsigned int port;
	uint64_t seed;
};

/* What the writer reports, in memory shared with the reader. */
struct wstate {
	volatile size_t sent;		/* bytes send() reported */
	volatile size_t msgs;		/* SEQPACKET messages sent */
	volatile size_t in_send;	/* length of the send() in progress */
	volatile int done;		/* 1: all sent, 2: failed */
	char err[160];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(s) % (hi - lo + 1);
}

static void fill_payload(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed | 1;
	size_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t v = rng_next(&s);
		size_t k = len - i < 8 ? len - i : 8;

		memcpy(buf + i, &v, k);
	}
}

static unsigned long min_ul(unsigned long a, unsigned long b)
{
	return a < b ? a : b;
}

static unsigned long pow2_floor(unsigned long v)
{
	unsigned long p = 1;

	while (p * 2 <= v)
		p *= 2;
	return p;
}

static unsigned long pow2_ceil(unsigned long v)
{
	unsigned long p = 1;

	while (p < v)
		p *= 2;
	return p;
}

/* Message sizes of a SEQPACKET case (see the comment at the top). */
static int plan_messages(struct tcase *c)
{
	unsigned long win = min_ul(c->rbuf, c->sbuf);
	unsigned long hi = min_ul(win, MAX_MSG);
	unsigned long lo = (win * SKB_BUDGET + c->rbuf - 1) / c->rbuf;
	uint64_t s = c->seed * 31 + 7;
	size_t cap, total = 0, n = 0;

	if (min_msg)
		lo = min_msg;
	if (lo < 1)
		lo = 1;
	if (lo > hi)
		lo = hi;
	cap = c->bytes / lo + 2 + 64 * 32;
	c->msg_len = calloc(cap, sizeof(*c->msg_len));
	c->msg_eor = calloc(cap, 1);
	if (!c->msg_len || !c->msg_eor)
		return -1;

	if (!c->nonblock) {
		while (total < c->bytes && n < cap) {
			size_t len = rng_range(&s, lo, hi);

			if (len > c->bytes - total)
				len = c->bytes - total;
			c->msg_len[n++] = len;
			total += len;
		}
	} else {
		/* Decreasing powers of two, an equal share of bytes each. */
		unsigned long top = pow2_floor(hi), bottom = pow2_ceil(lo);
		unsigned long sz;
		int levels = 0;

		if (bottom > top)
			bottom = top;
		for (sz = top; sz >= bottom; sz /= 2)
			levels++;
		for (sz = top; sz >= bottom && n < cap; sz /= 2) {
			size_t share = c->bytes / levels, k, count;

			count = share / sz;
			if (count < 1)
				count = 1;
			if (count > 512)
				count = 512;
			for (k = 0; k < count && n < cap; k++) {
				c->msg_len[n++] = sz;
				total += sz;
			}
			if (sz == 1)
				break;
		}
	}
	c->bytes = total;
	c->n_msgs = n;
	for (n = 0; n < c->n_msgs; n++)
		c->msg_eor[n] = rng_next(&s) & 1;
	return 0;
}

static int set_bufsize(int fd, unsigned long size)
{
	uint64_t v = size;

	if (size > DEFAULT_MAX_BUF &&
	    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &v, sizeof(v)))
		return -1;
	return setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v, sizeof(v));
}

static long get_bufsize(int fd)
{
	uint64_t v = 0;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v, &l))
		return -1;
	return (long)v;
}

static void set_timeo(int fd, int opt, double secs)
{
	struct timeval tv = {
		.tv_sec = (time_t)secs,
		.tv_usec = (suseconds_t)((secs - (time_t)secs) * 1e6),
	};

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static void werr(struct wstate *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	w->done = 2;
}

/*
 * Waits until fd is writable: 1, or 0 when no POLLOUT came in the stall
 * time.  One poll() for the whole time, so that a missing wakeup is not
 * hidden by polling again.
 */
static int wait_out(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r;

	do
		r = poll(&p, 1, (int)(stall_s * 1000));
	while (r < 0 && errno == EINTR);
	return r;
}

/* The writer, in the child. */
static int writer(const struct tcase *c, const unsigned char *payload,
		  struct wstate *w)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_LOCAL,
		.svm_port = c->port,
	};
	uint64_t s = c->seed * 17 + 3;
	size_t off = 0, m = 0;
	long got;
	int fd;

	fd = socket(AF_VSOCK, c->type, 0);
	if (fd < 0) {
		werr(w, "socket: %s", strerror(errno));
		return 1;
	}
	if (set_bufsize(fd, c->sbuf)) {
		werr(w, "setting the buffer size: %s", strerror(errno));
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		werr(w, "connect: %s", strerror(errno));
		return 1;
	}
	got = get_bufsize(fd);
	if (got != (long)c->sbuf) {
		werr(w, "buffer size is %ld, not %lu", got, c->sbuf);
		return 1;
	}
	/* A blocking send must not time out in the middle of a message; the
	 * reader kills us when the case stalls.
	 */
	set_timeo(fd, SO_SNDTIMEO, 600);
	if (c->nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
		werr(w, "O_NONBLOCK: %s", strerror(errno));
		return 1;
	}

	while (off < c->bytes) {
		size_t len;
		int flags = MSG_NOSIGNAL;
		ssize_t n;

		if (c->type == SOCK_SEQPACKET) {
			len = c->msg_len[m];
			if (c->msg_eor[m])
				flags |= MSG_EOR;
		} else if (c->nonblock) {
			len = rng_range(&s, 1, MAX_MSG);
		} else {
			/* The whole rest, or a random piece. */
			len = (rng_next(&s) & 1) ? c->bytes - off :
				rng_range(&s, 1, MAX_MSG);
		}
		if (len > c->bytes - off)
			len = c->bytes - off;

		w->in_send = len;
		n = send(fd, payload + off, len, flags);
		w->in_send = 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && c->nonblock) {
				int r = wait_out(fd);

				if (r > 0)
					continue;
				werr(w, r ? "poll: %s" : "no POLLOUT for %.0f s",
				     r ? strerror(errno) : "", stall_s);
				return 1;
			}
			werr(w, "send(%zu) at byte %zu: %s", len, off,
			     strerror(errno));
			return 1;
		}
		if (c->type == SOCK_SEQPACKET && (size_t)n != len) {
			werr(w, "send of a %zu-byte message returned %zd", len, n);
			return 1;
		}
		off += n;
		w->sent = off;
		if (c->type == SOCK_SEQPACKET)
			w->msgs = ++m;
	}
	w->done = 1;
	close(fd);
	return 0;
}

struct result {
	size_t received;
	size_t msgs;
	int pass;
	int err;		/* errno of a failed recv() */
	char why[256];
};

static void fail(struct result *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->pass && r->why[0])
		return;		/* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->pass = 0;
}

static size_t first_diff(const unsigned char *a, const unsigned char *b,
			 size_t n)
{
	size_t i;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

/* Reads the case from the accepted socket; fills r. */
static void reader(const struct tcase *c, const unsigned char *payload,
		   int fd, struct result *r)
{
	static unsigned char buf[MAX_MSG + 1];
	uint64_t s = c->seed * 13 + 5;
	int eof = 0;

	r->pass = 1;
	/* Every recv() blocks until data comes, at most the stall time: a
	 * wakeup that never comes is not hidden by calling recv() again.
	 */
	set_timeo(fd, SO_RCVTIMEO, stall_s);
	while (!eof) {
		double t = now();
		ssize_t n;
		size_t want;

		if (c->type == SOCK_SEQPACKET) {
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

			n = recvmsg(fd, &mh, 0);
			if (n > 0) {
				size_t i = r->msgs;

				if (i >= c->n_msgs) {
					fail(r, "an extra %zd-byte message after the last one", n);
					return;
				}
				if ((size_t)n != c->msg_len[i] || (mh.msg_flags & MSG_TRUNC)) {
					fail(r, "message %zu: %zd bytes%s, expected %zu",
					     i, n, (mh.msg_flags & MSG_TRUNC) ? " (MSG_TRUNC)" : "",
					     c->msg_len[i]);
					return;
				}
				if (!!(mh.msg_flags & MSG_EOR) != c->msg_eor[i]) {
					fail(r, "message %zu: MSG_EOR %s, expected %s", i,
					     (mh.msg_flags & MSG_EOR) ? "set" : "clear",
					     c->msg_eor[i] ? "set" : "clear");
					return;
				}
			}
		} else {
			want = rng_range(&s, 1, MAX_MSG);
			n = recv(fd, buf, want, 0);
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		if (n < 0 && errno == EAGAIN) {
			fail(r, "stalled, nothing received for %.0f s", stall_s);
			return;
		}
		if (n > 0 && now() - t >= stall_s * 0.99) {
			/* A stream recv() that times out with some data copied
			 * returns it: the reader waited for a wakeup that did
			 * not come.
			 */
			fail(r, "recv() returned %zd bytes only at its %.0f s timeout",
			     n, stall_s);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->err = errno;
			fail(r, "recv: %s", strerror(r->err));
			return;
		}
		if ((size_t)n > c->bytes - r->received) {
			fail(r, "%zd bytes more than were sent",
			     n - (ssize_t)(c->bytes - r->received));
			return;
		}
		if (memcmp(buf, payload + r->received, n)) {
			fail(r, "data differs at byte %zu",
			     r->received + first_diff(buf, payload + r->received, n));
			return;
		}
		r->received += n;
		if (c->type == SOCK_SEQPACKET)
			r->msgs++;
	}
	if (r->received != c->bytes) {
		/* A reset that came while no recv() waited leaves its error
		 * pending: recv() sees only the end of the stream.
		 */
		int soerr = 0;
		socklen_t l = sizeof(soerr);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
		r->err = soerr;
		fail(r, "end of stream after %zu of %zu bytes (SO_ERROR: %s)",
		     r->received, c->bytes, soerr ? strerror(soerr) : "none");
	}
}

/* Runs one case; returns 1 when it passed. */
static int run_case(struct tcase *c, int idx)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = c->port,
	};
	struct result r = { 0 };
	struct wstate *w;
	unsigned char *payload;
	double t0 = now(), deadline;
	int lfd, fd = -1, status = 0, exited = 0;
	pid_t pid;

	payload = malloc(c->bytes ? c->bytes : 1);
	w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!payload || w == MAP_FAILED) {
		perror("vsock_bufmatrix: memory");
		exit(2);
	}
	memset(w, 0, sizeof(*w));
	fill_payload(payload, c->bytes, c->seed);

	lfd = socket(AF_VSOCK, c->type, 0);
	if (lfd < 0 || set_bufsize(lfd, c->rbuf) ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1)) {
		fail(&r, "listener on port %u: %s", c->port, strerror(errno));
		goto report;
	}

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fail(&r, "fork: %s", strerror(errno));
		goto report;
	}
	if (pid == 0) {
		close(lfd);
		_exit(writer(c, payload, w));
	}

	/* Accept, with the stall timeout. */
	{
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int pr;

		do
			pr = poll(&p, 1, (int)(stall_s * 1000));
		while (pr < 0 && errno == EINTR);
		if (pr > 0)
			fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			fail(&r, "no connection: %s", pr == 0 ? "timed out" :
			     strerror(errno));
			goto finish;
		}
	}
	r.pass = 1;
	{
		long got = get_bufsize(fd);
		int lowat = (int)c->lowat;

		if (got != (long)c->rbuf) {
			fail(&r, "accepted socket's buffer size is %ld, not %lu",
			     got, c->rbuf);
			goto finish;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat))) {
			fail(&r, "SO_RCVLOWAT %d: %s", lowat, strerror(errno));
			goto finish;
		}
	}
	reader(c, payload, fd, &r);

finish:
	/* The writer has finished or fails in a moment; otherwise it hangs. */
	deadline = now() + (r.pass ? stall_s : 0.5);
	while (!exited) {
		pid_t p = waitpid(pid, &status, WNOHANG);

		if (p == pid) {
			exited = 1;
			break;
		}
		if (now() > deadline)
			break;
		usleep(10000);
	}
	if (!exited) {
		if (r.pass || c->expect_reset)
			fail(&r, "writer hangs after %zu bytes", w->sent);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (fd >= 0)
		close(fd);

	if (c->expect_reset) {
		/* Passes when the receiver reported the reset, after a
		 * verified prefix, and the writer gave up by itself.
		 */
		int reset = r.err == ENOBUFS || r.err == ECONNRESET;

		if (reset && exited && w->done == 2) {
			r.pass = 1;
			snprintf(r.why, sizeof(r.why),
				 "reset as expected (%s), writer: %s",
				 strerror(r.err), w->err);
		} else if (r.pass) {
			fail(&r, "expected a reset (ENOBUFS), got a complete transfer");
		} else if (reset) {
			fail(&r, "reset as expected, but the writer %s",
			     exited ? "did not report an error" : "hung");
		}
	} else if (r.pass && exited &&
		   (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || w->done != 1)) {
		fail(&r, "writer failed: %s", w->err[0] ? w->err : "exit status");
	}

report:
	close(lfd);
	if (!r.pass || verbose) {
		char lw[32];

		snprintf(lw, sizeof(lw), "%ld", c->lowat);
		printf("%s %d: %s rcvbuf=%lu sndbuf=%lu rcvlowat=%s writer=%s: "
		       "received %zu of %zu bytes", r.pass ? "ok" : "FAIL", idx,
		       type_name(c->type), c->rbuf, c->sbuf, lw,
		       c->nonblock ? "nonblock" : "block", r.received, c->bytes);
		if (c->type == SOCK_SEQPACKET)
			printf(" (%zu of %zu messages)", r.msgs, c->n_msgs);
		printf(", writer sent %zu", w->sent);
		if (w->in_send)
			printf(" and is in send(%zu)", w->in_send);
		if (w->err[0] && !(r.pass && c->expect_reset))
			printf(" (writer: %s)", w->err);
		printf(", %.2f s", now() - t0);
		if (r.why[0])
			printf(": %s", r.why);
		printf("\n");
		fflush(stdout);
	}
	munmap(w, sizeof(*w));
	free(payload);
	return r.pass;
}

static int parse_list(const char *arg, unsigned long *out, int max)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;

		out[n] = strtoul(tok, &end, 0);
		if (*end == 'K' || *end == 'k')
			out[n] <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			out[n] <<= 20, end++;
		if (*end || !out[n]) {
			fprintf(stderr, "vsock_bufmatrix: bad size '%s'\n", tok);
			exit(2);
		}
		n++;
	}
	free(copy);
	return n;
}

static int parse_words(const char *arg, const char *a, const char *b,
		       int va, int vb, int *out)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok && n < 2;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, a))
			out[n++] = va;
		else if (!strcmp(tok, b))
			out[n++] = vb;
		else {
			fprintf(stderr, "vsock_bufmatrix: '%s' is neither %s nor %s\n",
				tok, a, b);
			exit(2);
		}
	}
	free(copy);
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vsock_bufmatrix [-r SIZES] [-s SIZES] [-l 1,half,N] "
		"[-t stream,seqpacket]\n"
		"                       [-w block,nonblock] [-b BYTES] [-m BYTES]\n"
		"                       [-S STALL_SECONDS] [-p PORT] [-E] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const unsigned long sizes[] = {
		128, 4096, 16384, 32768, 65536, 262144, 2097152,
	};
	int i, j, k, t, wi, opt, idx = 0, passed = 0, failed = 0;
	double t0 = now();

	n_rbufs = n_sbufs = sizeof(sizes) / sizeof(sizes[0]);
	memcpy(rbufs, sizes, sizeof(sizes));
	memcpy(sbufs, sizes, sizeof(sizes));
	lowats[0] = 1, lowats[1] = -1, n_lowats = 2;
	types[0] = SOCK_STREAM, types[1] = SOCK_SEQPACKET, n_types = 2;
	writers[0] = 0, writers[1] = 1, n_writers = 2;

	while ((opt = getopt(argc, argv, "r:s:l:t:w:b:m:S:p:Ev")) != -1) {
		switch (opt) {
		case 'r': n_rbufs = parse_list(optarg, rbufs, MAX_LIST); break;
		case 's': n_sbufs = parse_list(optarg, sbufs, MAX_LIST); break;
		case 'l': {
			char *copy = strdup(optarg), *tok, *save = NULL;

			n_lowats = 0;
			for (tok = strtok_r(copy, ",", &save); tok && n_lowats < MAX_LIST;
			     tok = strtok_r(NULL, ",", &save))
				lowats[n_lowats++] = strcmp(tok, "half") ? atol(tok) : -1;
			free(copy);
			break;
		}
		case 't':
			n_types = parse_words(optarg, "stream", "seqpacket",
					      SOCK_STREAM, SOCK_SEQPACKET, types);
			break;
		case 'w':
			n_writers = parse_words(optarg, "block", "nonblock", 0, 1,
						writers);
			break;
		case 'b': max_bytes = strtoul(optarg, NULL, 0); break;
		case 'm': min_msg = strtoul(optarg, NULL, 0); break;
		case 'S': stall_s = atof(optarg); break;
		case 'p': base_port = strtoul(optarg, NULL, 0); break;
		case 'E': expect_resets = 0; break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc || !max_bytes || stall_s <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);

	for (t = 0; t < n_types; t++)
	for (i = 0; i < n_rbufs; i++)
	for (j = 0; j < n_sbufs; j++)
	for (k = 0; k < n_lowats; k++)
	for (wi = 0; wi < n_writers; wi++) {
		struct tcase c = {
			.type = types[t],
			.rbuf = rbufs[i],
			.sbuf = sbufs[j],
			.nonblock = writers[wi],
			.port = base_port + idx,
			.seed = 0x9E3779B97F4A7C15ULL * (idx + 1),
		};
		unsigned long win = min_ul(c.rbuf, c.sbuf);

		c.lowat = lowats[k] >= 0 ? lowats[k] : (long)min_ul(c.rbuf, MAX_MSG) / 2;
		if (c.lowat < 1)
			c.lowat = 1;
		c.bytes = max_bytes;
		if (c.bytes / 256 > win)
			c.bytes = 256 * win;
		c.expect_reset = expect_resets && c.rbuf < SKB_TRUESIZE0;
		if (c.type == SOCK_SEQPACKET && plan_messages(&c)) {
			perror("vsock_bufmatrix: memory");
			return 2;
		}
		if (run_case(&c, idx))
			passed++;
		else
			failed++;
		free(c.msg_len);
		free(c.msg_eor);
		idx++;
	}
	printf("bufmatrix: %d cases in %.1f s\n", idx, now() - t0);
	printf("bufmatrix: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
