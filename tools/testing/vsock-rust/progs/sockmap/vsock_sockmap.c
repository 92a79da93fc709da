// SPDX-License-Identifier: GPL-2.0
/*
 * vsock_sockmap: sockmap redirection of vsock traffic over loopback (CID 1).
 *
 * For each case: a vsock pair (listener, client connected to CID 1, accepted
 * socket) and a Unix stream pair.  The accepted socket goes into slot 0 of
 * sock_map, one end of the Unix pair into slot 1, and the sk_skb verdict
 * program of sockmap.bpf.o (attached with BPF_SK_SKB_VERDICT) redirects
 * every skb the accepted socket receives to slot 1: to its ingress (read
 * back from that socket) or its egress (read from the other end of the Unix
 * pair).  The client writes many messages back to back, so that the
 * loopback worker finds several packets of the connection queued at once;
 * the test reads everything from the redirect target, with a timeout on
 * progress, and compares count and content byte for byte.
 *
 * The verdict runs once per sk_data_ready() of the vsock socket, on one skb
 * (the transport's read_skb): a transport that queues several packets but
 * wakes the socket once leaves the others in the vsock socket's queue,
 * never redirected.  Such a case fails with the bytes still queued.
 *
 * Usage: vsock_sockmap [-o sockmap.bpf.o] [-t idle-timeout-s] [-v] [case...]
 * Ends with "sockmap: N passed, M failed"; exit status 1 if any failed.
 * Root only (BPF); meant for the test VMs (tools/testing/vsock-rust).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/vm_sockets.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifndef VMADDR_CID_LOCAL
#define VMADDR_CID_LOCAL 1
#endif

/* As in sockmap.bpf.c. */
enum { CNT_RUNS, CNT_BYTES, CNT_PASS, CNT_DROP, CNT_MAX };

struct tcase {
	const char *name;
	int type;		/* SOCK_STREAM or SOCK_SEQPACKET */
	bool ingress;		/* redirect to the target's ingress, else egress */
	int count;		/* messages */
	int size;		/* bytes per message; 0: random, 1..max */
	int max;
};

static const struct tcase cases[] = {
	{ "stream small", SOCK_STREAM, true, 1000, 100 },
	{ "stream 4K", SOCK_STREAM, true, 256, 4096 },
	{ "stream mixed", SOCK_STREAM, true, 500, 0, 8192 },
	{ "stream small egress", SOCK_STREAM, false, 1000, 100 },
	{ "seqpacket small", SOCK_SEQPACKET, true, 1000, 100 },
	{ "seqpacket mixed", SOCK_SEQPACKET, true, 300, 0, 8192 },
	{ "seqpacket small egress", SOCK_SEQPACKET, false, 1000, 100 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int idle_timeout_s = 10;
static bool verbose;

static struct {
	int map, config, counters;
} fds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64 */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* A connected vsock pair over loopback: *client and *server (accepted). */
static int vsock_pair(int type, int *client, int *server)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = VMADDR_PORT_ANY,
	};
	socklen_t len = sizeof(addr);
	int l, c = -1, s;

	l = socket(AF_VSOCK, type, 0);
	if (l < 0) {
		perror("socket(AF_VSOCK)");
		return -1;
	}
	if (bind(l, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&addr, &len)) {
		perror("vsock listener");
		goto fail;
	}
	c = socket(AF_VSOCK, type, 0);
	if (c < 0) {
		perror("socket(AF_VSOCK)");
		goto fail;
	}
	addr.svm_cid = VMADDR_CID_LOCAL;
	if (connect(c, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("connect(CID 1)");
		goto fail;
	}
	s = accept(l, NULL, NULL);
	if (s < 0) {
		perror("accept");
		goto fail;
	}
	close(l);
	*client = c;
	*server = s;
	return 0;
fail:
	if (c >= 0)
		close(c);
	close(l);
	return -1;
}

struct sender {
	int fd, type;
	const unsigned char *data;
	const int *sizes;
	int count;
	size_t sent;		/* bytes */
	int msgs;		/* complete messages */
	int err;		/* errno of a failed send, 0 if none */
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	int i;

	for (i = 0; i < s->count; i++) {
		size_t off = 0, len = s->sizes[i];

		while (off < len) {
			ssize_t n = send(s->fd, s->data + s->sent + off, len - off, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				s->err = errno;
				s->sent += off;
				return NULL;
			}
			if (s->type == SOCK_SEQPACKET && (size_t)n != len) {
				s->err = EMSGSIZE;
				s->sent += n;
				return NULL;
			}
			off += n;
		}
		s->sent += len;
		s->msgs++;
	}
	return NULL;
}

/* Reads up to len bytes from fd into buf until none came for idle_timeout_s. */
static size_t recv_all(int fd, unsigned char *buf, size_t len, int *err, bool *idle)
{
	size_t got = 0;

	*err = 0;
	*idle = false;
	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, idle_timeout_s * 1000);
		ssize_t r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			break;
		}
		if (n == 0) {
			*idle = true;
			break;
		}
		r = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			*err = errno;
			break;
		}
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

static int read_counters(uint64_t *c)
{
	uint32_t k;

	for (k = 0; k < CNT_MAX; k++)
		if (bpf_map_lookup_elem(fds.counters, &k, &c[k]))
			return -errno;
	return 0;
}

static int reset_counters(void)
{
	uint64_t zero = 0;
	uint32_t k;

	for (k = 0; k < CNT_MAX; k++)
		if (bpf_map_update_elem(fds.counters, &k, &zero, BPF_ANY))
			return -errno;
	return 0;
}

static bool run_case(int idx, const struct tcase *tc)
{
	const char *type = tc->type == SOCK_STREAM ? "stream" : "seqpacket";
	int c = -1, s = -1, u[2] = { -1, -1 }, rfd, *sizes = NULL, i, err, rc;
	unsigned char *data = NULL, *buf = NULL;
	struct sender snd = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL ^ (idx + 1), cnt[CNT_MAX] = { 0 };
	uint64_t flags = tc->ingress ? BPF_F_INGRESS : 0;
	uint32_t k0 = 0, k1 = 1;
	size_t total = 0, got, mismatch = SIZE_MAX;
	struct timeval tv = { .tv_sec = idle_timeout_s };
	bool ok = false, idle, in_map = false, reported = false;
	pthread_t th;
	double t0, t;
	int inq = -1;
	char desc[160];

	snprintf(desc, sizeof(desc), "%d %s: %s -> unix %s, %d x %s%d B", idx + 1,
		 tc->name, type, tc->ingress ? "ingress" : "egress", tc->count,
		 tc->size ? "" : "1..", tc->size ? tc->size : tc->max);

	sizes = calloc(tc->count, sizeof(*sizes));
	if (!sizes)
		goto out;
	for (i = 0; i < tc->count; i++) {
		sizes[i] = tc->size ? tc->size : 1 + rng_next(&seed) % tc->max;
		total += sizes[i];
	}
	data = malloc(total);
	buf = calloc(1, total + 1);
	if (!data || !buf)
		goto out;
	for (size_t j = 0; j < total; j++)
		data[j] = rng_next(&seed) >> 56;

	if (vsock_pair(tc->type, &c, &s))
		goto out;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, u)) {
		perror("socketpair");
		goto out;
	}
	/* A stalled receiver must not block the sender for ever. */
	if (setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		perror("SO_SNDTIMEO");
		goto out;
	}
	if (bpf_map_update_elem(fds.config, &k0, &flags, BPF_ANY) || reset_counters()) {
		perror("config map");
		goto out;
	}
	if (bpf_map_update_elem(fds.map, &k0, &(uint64_t){ s }, BPF_NOEXIST)) {
		perror("sock_map[0] = vsock");
		goto out;
	}
	in_map = true;
	if (bpf_map_update_elem(fds.map, &k1, &(uint64_t){ u[0] }, BPF_NOEXIST)) {
		perror("sock_map[1] = unix");
		goto out;
	}
	rfd = tc->ingress ? u[0] : u[1];

	snd = (struct sender){ .fd = c, .type = tc->type, .data = data,
			       .sizes = sizes, .count = tc->count };
	t0 = now();
	rc = pthread_create(&th, NULL, send_all, &snd);
	if (rc) {
		errno = rc;
		perror("pthread_create");
		goto out;
	}
	got = recv_all(rfd, buf, total, &err, &idle);
	t = now() - t0;
	pthread_join(th, NULL);
	/* What the transport still holds for the vsock socket, unredirected. */
	if (ioctl(s, SIOCINQ, &inq))
		inq = -errno;
	if (read_counters(cnt))
		perror("counters map");
	/* Anything beyond the expected bytes is an error too. */
	if (got == total) {
		ssize_t extra = recv(rfd, buf + total, 1, MSG_DONTWAIT);

		if (extra > 0)
			got++;
	}
	for (size_t j = 0; j < got && j < total; j++) {
		if (buf[j] != data[j]) {
			mismatch = j;
			break;
		}
	}

	ok = snd.err == 0 && snd.sent == total && got == total &&
	     mismatch == SIZE_MAX && err == 0 && cnt[CNT_DROP] == 0 &&
	     cnt[CNT_BYTES] == total && inq == 0;
	printf("%s %s: %zu/%zu bytes in %.2f s; %llu verdicts on %llu bytes, %llu dropped;"
	       " %d bytes left on the vsock socket\n",
	       ok ? "ok  " : "FAIL", desc, got, total, t,
	       (unsigned long long)cnt[CNT_RUNS], (unsigned long long)cnt[CNT_BYTES],
	       (unsigned long long)cnt[CNT_DROP], inq);
	reported = true;
	if (!ok) {
		int serr = 0, cerr = 0;
		socklen_t elen = sizeof(int);

		printf("     sender: %zu/%zu bytes, %d/%d messages%s%s\n", snd.sent, total,
		       snd.msgs, tc->count, snd.err ? ", " : "",
		       snd.err ? strerror(snd.err) : "");
		/* A receiver that ran out of queue space resets the connection. */
		getsockopt(s, SOL_SOCKET, SO_ERROR, &serr, &elen);
		elen = sizeof(int);
		getsockopt(c, SOL_SOCKET, SO_ERROR, &cerr, &elen);
		if (serr || cerr)
			printf("     socket errors: vsock receiver %s, vsock sender %s\n",
			       serr ? strerror(serr) : "none", cerr ? strerror(cerr) : "none");
		if (idle)
			printf("     receiver: nothing more for %d s\n", idle_timeout_s);
		if (err)
			printf("     receiver: %s\n", strerror(err));
		if (got > total)
			printf("     receiver: more bytes than sent\n");
		if (mismatch != SIZE_MAX)
			printf("     content differs at byte %zu (0x%02x, expected 0x%02x)\n",
			       mismatch, buf[mismatch], data[mismatch]);
	}
out:
	if (in_map) {
		bpf_map_delete_elem(fds.map, &k0);
		bpf_map_delete_elem(fds.map, &k1);
	}
	if (!reported)
		printf("FAIL %s: set-up failed\n", desc);
	for (i = 0; i < 2; i++)
		if (u[i] >= 0)
			close(u[i]);
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	free(sizes);
	free(data);
	free(buf);
	fflush(stdout);
	return ok;
}

static char *default_obj(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return "sockmap.bpf.o";
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "sockmap.bpf.o");
	return path;
}

int main(int argc, char **argv)
{
	const char *obj_path = default_obj();
	struct bpf_object *obj;
	struct bpf_program *prog;
	int opt, passed = 0, failed = 0, prog_fd;
	bool only[NCASES] = { false }, any_only = false;
	size_t i;

	while ((opt = getopt(argc, argv, "o:t:v")) != -1) {
		switch (opt) {
		case 'o':
			obj_path = optarg;
			break;
		case 't':
			idle_timeout_s = atoi(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-o sockmap.bpf.o] [-t idle-timeout-s] [-v] [case number...]\n",
				argv[0]);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		int n = atoi(argv[optind]);

		if (n < 1 || n > (int)NCASES) {
			fprintf(stderr, "no case %s (1..%zu)\n", argv[optind], NCASES);
			return 2;
		}
		only[n - 1] = any_only = true;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);

	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj) {
		fprintf(stderr, "cannot open %s: %s\n", obj_path, strerror(errno));
		goto setup_failed;
	}
	prog = bpf_object__find_program_by_name(obj, "redirect_all");
	if (!prog) {
		fprintf(stderr, "%s: no program redirect_all\n", obj_path);
		goto setup_failed;
	}
	/* libbpf before 1.2 (Debian 12 has 1.1) does not know the section
	 * name "sk_skb/verdict": give the type it stands for.
	 */
	if (bpf_program__type(prog) == BPF_PROG_TYPE_UNSPEC) {
		bpf_program__set_type(prog, BPF_PROG_TYPE_SK_SKB);
		bpf_program__set_expected_attach_type(prog, BPF_SK_SKB_VERDICT);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s: %s\n", obj_path, strerror(errno));
		goto setup_failed;
	}
	fds.map = bpf_object__find_map_fd_by_name(obj, "sock_map");
	fds.config = bpf_object__find_map_fd_by_name(obj, "config");
	fds.counters = bpf_object__find_map_fd_by_name(obj, "counters");
	if (fds.map < 0 || fds.config < 0 || fds.counters < 0) {
		fprintf(stderr, "%s: maps missing\n", obj_path);
		goto setup_failed;
	}
	prog_fd = bpf_program__fd(prog);
	if (bpf_prog_attach(prog_fd, fds.map, BPF_SK_SKB_VERDICT, 0)) {
		perror("bpf_prog_attach(BPF_SK_SKB_VERDICT)");
		goto setup_failed;
	}

	for (i = 0; i < NCASES; i++) {
		if (any_only && !only[i])
			continue;
		if (run_case(i, &cases[i]))
			passed++;
		else
			failed++;
	}
	bpf_prog_detach2(prog_fd, fds.map, BPF_SK_SKB_VERDICT);
	bpf_object__close(obj);
	printf("sockmap: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;

setup_failed:
	for (i = 0; i < NCASES; i++)
		if (!any_only || only[i])
			failed++;
	printf("sockmap: 0 passed, %d failed\n", failed);
	return 1;
}
