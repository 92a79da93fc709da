// SPDX-License-Identifier: GPL-2.0
/*
 * vhostile: a hostile guest against a vhost-vsock backend.
 *
 *   vhostile BACKEND [PORT]
 *
 * This program is its own VMM: it opens /dev/vhost-vsock, gives the backend
 * a memory table over its own anonymous memory and two split vrings in it
 * (RX: queue 0, host to guest; TX: queue 1, guest to host), sets a guest
 * CID and starts the device.  Then it plays the guest, one case at a time,
 * with a fresh device per case, against AF_VSOCK sockets of this same
 * machine (the host, CID 2): first a valid connection (the rig works), then
 * malformed and abusive traffic.  After each case the host must still be
 * sane: a new connection over the same device works and carries data both
 * ways, and a REQUEST to a port nobody listens on is answered with a RST.
 *
 * The expected result of every case is what upstream's C backend
 * (drivers/vhost/vsock.c, 7.2) does; see the comment of each case.  A
 * backend that rejects or drops more than C is not what this checks: it
 * checks C's behaviour exactly, so that another backend (vhost_vsock_rs)
 * can be compared with it.
 *
 * Output: one line per case, "vhostile: CASE ok" or "vhostile: CASE FAIL
 * detail", then "vhostile BACKEND: N passed, N failed".  Exit status 0
 * when every case passed.
 *
 * "Barrier": TX packets are handled in ring order and the replies they
 * cause are queued and delivered in order, so once the RST answering a
 * REQUEST sent after a packet has arrived, any reply to that packet has
 * arrived too: "no reply" is checked without waiting for a timeout.
 *
 * "vhostile traffic ...": a well-behaved guest instead, for
 * suites/hostcycle.sh; see traffic_main.
 *
 * Never run this on a machine whose vsock device belongs to a real host:
 * it is meant for a test VM (suites/vhostile.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <linux/vm_sockets.h>

#define QSZ 256 /* the largest ring; the devices opened next have qsz[] */
#define HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define MAX_PKT (64 * 1024)
#define SLOT (72 * 1024)
#define RX_BUF (4096 + HDR)
#define RX_POSTED 128
#define HOST_CID 2
#define MEM_SIZE (2ULL * QSZ * SLOT + 4 * 65536)
#define MAXPKTS 16384

struct vq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	unsigned int num; /* ring size, at most QSZ */
	uint16_t avail_idx, last_used;
	unsigned int used_total; /* used entries taken back (pump) */
	uint16_t free[QSZ];
	int nfree;
	uint8_t used_seen[QSZ];
	uint8_t chain_len[QSZ];
	uint32_t posted_len[QSZ];
	size_t slot_off; /* offset of this queue's buffers in mem */
	int kick, call;
};

/* A packet received by the guest (host to guest), header and the start of
 * its payload. */
struct pkt {
	struct virtio_vsock_hdr h;
	uint32_t used_len;
	uint8_t data[256];
	int taken;
};

struct dev {
	int fd;
	uint64_t cid;
	uint8_t *mem;
	struct vq vq[2]; /* 0: RX (host to guest), 1: TX (guest to host) */
	int rx_repost; /* repost consumed RX buffers */
	struct pkt *pkts;
	int npkts;
};

#define RXQ 0
#define TXQ 1

static const char *backend;
/* Ring sizes of the devices opened next, by queue (RXQ, TXQ). */
static unsigned int qsz[2] = { QSZ, QSZ };
static uint32_t listen_port = 1024;
static int listener = -1;
static uint32_t next_port = 40000;
static uint32_t unbound_port = 9999;
static int passed, failed;
static char detail[512];

static void fail_detail(const char *fmt, ...)
{
	va_list ap;

	if (detail[0])
		return; /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Generous: the VMs run under TCG on a loaded machine. */
static double timeout_s = 20.0;

static uint64_t gpa(struct dev *d, const void *p)
{
	return (uint64_t)((const uint8_t *)p - d->mem);
}

static uint8_t *slot(struct dev *d, int q, int i)
{
	return d->mem + d->vq[q].slot_off + (size_t)i * SLOT;
}

static void kick(struct dev *d, int q)
{
	uint64_t one = 1;

	if (write(d->vq[q].kick, &one, sizeof(one)) != sizeof(one))
		perror("vhostile: kick");
}

/* ---- device set-up ---------------------------------------------------- */

static int dev_open_raw(struct dev *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = open("/dev/vhost-vsock", O_RDWR);
	if (d->fd < 0)
		return -errno;
	return 0;
}

/* dev_open: a running device with guest CID cid, RX buffers posted. */
static int dev_open(struct dev *d, uint64_t cid)
{
	uint64_t features;
	struct vhost_memory *m;
	int q, i, r, running = 1;

	r = dev_open_raw(d);
	if (r)
		return r;
	d->cid = cid;
	d->rx_repost = 1;
	d->pkts = calloc(MAXPKTS, sizeof(*d->pkts));
	d->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d->mem == MAP_FAILED || !d->pkts)
		return -ENOMEM;
	if (ioctl(d->fd, VHOST_SET_OWNER) < 0)
		return -errno;
	if (ioctl(d->fd, VHOST_GET_FEATURES, &features) < 0)
		return -errno;
	if (!(features & (1ULL << VIRTIO_F_VERSION_1)))
		return -ENOTSUP;
	features = 1ULL << VIRTIO_F_VERSION_1;
	if (ioctl(d->fd, VHOST_SET_FEATURES, &features) < 0)
		return -errno;
	m = calloc(1, sizeof(*m) + sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = 1;
	m->regions[0].guest_phys_addr = 0;
	m->regions[0].memory_size = MEM_SIZE;
	m->regions[0].userspace_addr = (uint64_t)(uintptr_t)d->mem;
	r = ioctl(d->fd, VHOST_SET_MEM_TABLE, m);
	free(m);
	if (r < 0)
		return -errno;

	/* Rings at the start of memory (one 64 KiB area per queue), then
	 * QSZ buffer slots per queue. */
	for (q = 0; q < 2; q++) {
		struct vq *v = &d->vq[q];
		uint8_t *base = d->mem + (size_t)q * 65536;
		struct vhost_vring_state num = { .index = q, .num = qsz[q] };
		struct vhost_vring_state vbase = { .index = q, .num = 0 };
		struct vhost_vring_addr addr = { .index = q };
		struct vhost_vring_file f = { .index = q };

		v->desc = (void *)base;
		v->avail = (void *)(base + 16 * QSZ);
		v->used = (void *)(base + 16 * QSZ + 8192);
		v->slot_off = 4 * 65536 + (size_t)q * QSZ * SLOT;
		v->num = qsz[q];
		for (i = 0; i < (int)v->num; i++)
			v->free[i] = v->num - 1 - i;
		v->nfree = v->num;
		v->kick = eventfd(0, EFD_NONBLOCK);
		v->call = eventfd(0, EFD_NONBLOCK);
		if (v->kick < 0 || v->call < 0)
			return -errno;
		addr.desc_user_addr = (uint64_t)(uintptr_t)v->desc;
		addr.avail_user_addr = (uint64_t)(uintptr_t)v->avail;
		addr.used_user_addr = (uint64_t)(uintptr_t)v->used;
		if (ioctl(d->fd, VHOST_SET_VRING_NUM, &num) < 0 ||
		    ioctl(d->fd, VHOST_SET_VRING_BASE, &vbase) < 0 ||
		    ioctl(d->fd, VHOST_SET_VRING_ADDR, &addr) < 0)
			return -errno;
		f.fd = v->kick;
		if (ioctl(d->fd, VHOST_SET_VRING_KICK, &f) < 0)
			return -errno;
		f.fd = v->call;
		if (ioctl(d->fd, VHOST_SET_VRING_CALL, &f) < 0)
			return -errno;
	}
	if (ioctl(d->fd, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0)
		return -errno;
	if (ioctl(d->fd, VHOST_VSOCK_SET_RUNNING, &running) < 0)
		return -errno;
	return 0;
}

static void dev_close(struct dev *d)
{
	int q;

	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	for (q = 0; q < 2; q++) {
		if (d->vq[q].kick > 0)
			close(d->vq[q].kick);
		if (d->vq[q].call > 0)
			close(d->vq[q].call);
		d->vq[q].kick = d->vq[q].call = -1;
	}
	if (d->mem && d->mem != MAP_FAILED)
		munmap(d->mem, MEM_SIZE);
	d->mem = NULL;
	free(d->pkts);
	d->pkts = NULL;
}

/* ---- rings -------------------------------------------------------------- */

struct seg {
	const void *data; /* NULL: zeroes */
	uint32_t len;
	int write; /* VRING_DESC_F_WRITE */
};

/* add_chain: descriptors for segs, made available (no kick); the head, or
 * -1 when the ring has no room. */
static int add_chain(struct dev *d, int q, const struct seg *segs, int n)
{
	struct vq *v = &d->vq[q];
	int idx[16], i;

	if (n < 1 || n > 16 || v->nfree < n)
		return -1;
	for (i = 0; i < n; i++)
		idx[i] = v->free[--v->nfree];
	for (i = 0; i < n; i++) {
		struct vring_desc *dd = &v->desc[idx[i]];
		uint8_t *buf = slot(d, q, idx[i]);

		if (segs[i].data)
			memcpy(buf, segs[i].data, segs[i].len);
		else
			memset(buf, 0, segs[i].len > SLOT ? SLOT : segs[i].len);
		dd->addr = gpa(d, buf);
		dd->len = segs[i].len;
		dd->flags = (segs[i].write ? VRING_DESC_F_WRITE : 0) |
			    (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		dd->next = i + 1 < n ? idx[i + 1] : 0;
	}
	v->used_seen[idx[0]] = 0;
	v->chain_len[idx[0]] = n;
	v->posted_len[idx[0]] = segs[0].len;
	v->avail->ring[v->avail_idx % v->num] = idx[0];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	v->avail_idx++;
	__atomic_store_n(&v->avail->idx, v->avail_idx, __ATOMIC_RELEASE);
	return idx[0];
}

static void free_chain(struct vq *v, int head)
{
	int i = head, n = v->chain_len[head];

	while (n-- > 0) {
		int next = v->desc[i].next;

		v->free[v->nfree++] = i;
		i = next;
	}
}

static int rx_post(struct dev *d, uint32_t len, int write)
{
	struct seg s = { NULL, len, write };

	return add_chain(d, RXQ, &s, 1);
}

/* rx_sink: when set, sees each received packet first (header, then
 * plen bytes of payload, within the RX buffer); nonzero: consumed, not
 * kept in d->pkts.  Used by the traffic mode. */
static int (*rx_sink)(struct dev *d, const uint8_t *buf, uint32_t plen);

/* pump: return used TX chains, collect received packets, repost RX
 * buffers. */
static void pump(struct dev *d)
{
	struct vq *v = &d->vq[TXQ];
	int reposted = 0;

	while (v->last_used != __atomic_load_n(&v->used->idx, __ATOMIC_ACQUIRE)) {
		struct vring_used_elem *e = &v->used->ring[v->last_used % v->num];

		if (e->id < v->num) {
			v->used_seen[e->id] = 1;
			free_chain(v, e->id);
		}
		v->last_used++;
		v->used_total++;
	}
	v = &d->vq[RXQ];
	while (v->last_used != __atomic_load_n(&v->used->idx, __ATOMIC_ACQUIRE)) {
		struct vring_used_elem *e = &v->used->ring[v->last_used % v->num];
		uint32_t id = e->id, len = e->len;

		v->last_used++;
		v->used_total++;
		if (id >= v->num)
			continue;
		v->used_seen[id] = 1;
		if (rx_sink && len >= HDR && rx_sink(d, slot(d, RXQ, id), len - HDR)) {
			/* taken by the traffic mode */
		} else if (d->npkts < MAXPKTS && len >= HDR) {
			struct pkt *p = &d->pkts[d->npkts++];
			uint8_t *buf = slot(d, RXQ, id);
			uint32_t n = len - HDR;

			memcpy(&p->h, buf, HDR);
			p->used_len = len;
			if (n > sizeof(p->data))
				n = sizeof(p->data);
			memcpy(p->data, buf + HDR, n);
			p->taken = 0;
		}
		free_chain(v, id);
		if (d->rx_repost && rx_post(d, RX_BUF, 1) >= 0)
			reposted = 1;
	}
	if (reposted)
		kick(d, RXQ);
}

static void nap(void)
{
	usleep(500);
}

/* tx: send a chain, waiting for room; the head. */
static int tx(struct dev *d, const struct seg *segs, int n)
{
	double t0 = now();
	int head;

	for (;;) {
		head = add_chain(d, TXQ, segs, n);
		if (head >= 0)
			break;
		pump(d);
		if (now() - t0 > timeout_s)
			return -1;
		nap();
	}
	kick(d, TXQ);
	return head;
}

static struct virtio_vsock_hdr mkhdr(struct dev *d, uint16_t op, uint32_t sport,
				     uint32_t dport, uint32_t len)
{
	struct virtio_vsock_hdr h;

	memset(&h, 0, sizeof(h));
	h.src_cid = d->cid;
	h.dst_cid = HOST_CID;
	h.src_port = sport;
	h.dst_port = dport;
	h.len = len;
	h.type = VIRTIO_VSOCK_TYPE_STREAM;
	h.op = op;
	h.buf_alloc = 256 * 1024;
	h.fwd_cnt = 0;
	return h;
}

/* tx_hdr: a packet in one descriptor, header then payload. */
static int tx_pkt(struct dev *d, const struct virtio_vsock_hdr *h, const void *payload,
		  uint32_t plen)
{
	static uint8_t buf[SLOT];
	struct seg s = { buf, HDR + plen, 0 };

	if (HDR + plen > SLOT)
		return -1;
	memcpy(buf, h, HDR);
	if (plen)
		memcpy(buf + HDR, payload, plen);
	return tx(d, &s, 1);
}

static int tx_op(struct dev *d, uint16_t op, uint32_t sport, uint32_t dport)
{
	struct virtio_vsock_hdr h = mkhdr(d, op, sport, dport, 0);

	return tx_pkt(d, &h, NULL, 0);
}

/* find: the first packet not yet taken from dport to sport (guest's port)
 * with op (0: any op); NULL if none yet. */
static struct pkt *find(struct dev *d, int op, uint32_t gport, uint32_t hport)
{
	int i;

	for (i = 0; i < d->npkts; i++) {
		struct pkt *p = &d->pkts[i];

		if (p->taken || p->h.dst_port != gport || p->h.src_port != hport)
			continue;
		if (op && p->h.op != op)
			continue;
		return p;
	}
	return NULL;
}

static struct pkt *wait_pkt(struct dev *d, int op, uint32_t gport, uint32_t hport)
{
	double t0 = now();
	struct pkt *p;

	for (;;) {
		pump(d);
		p = find(d, op, gport, hport);
		if (p) {
			p->taken = 1;
			return p;
		}
		if (now() - t0 > timeout_s)
			return NULL;
		nap();
	}
}

/* count: packets not yet taken to gport (any host port) of op. */
static int count_to(struct dev *d, int op, uint32_t gport)
{
	int i, n = 0;

	for (i = 0; i < d->npkts; i++)
		if (!d->pkts[i].taken && d->pkts[i].h.dst_port == gport &&
		    (!op || d->pkts[i].h.op == op))
			n++;
	return n;
}

/* barrier: a REQUEST to an unbound port and its RST; 0 when it came. */
static int barrier(struct dev *d)
{
	uint32_t p = next_port++;

	if (tx_op(d, VIRTIO_VSOCK_OP_REQUEST, p, unbound_port) < 0)
		return -1;
	if (!wait_pkt(d, VIRTIO_VSOCK_OP_RST, p, unbound_port))
		return -1;
	return 0;
}

/* ---- host side ---------------------------------------------------------- */

static int host_listen(uint32_t port, int backlog)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* host_accept: a connection from the guest on lfd, pumping the guest
 * meanwhile; -1 on timeout. */
static int host_accept(struct dev *d, int lfd, double limit)
{
	double t0 = now();

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd >= 0)
			return fd;
		if (errno != EAGAIN)
			return -1;
		pump(d);
		if (now() - t0 > limit)
			return -1;
		nap();
	}
}

/* host_recv: exactly n bytes (pumping the guest), or the error. */
static ssize_t host_recv(struct dev *d, int fd, void *buf, size_t n)
{
	double t0 = now();
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);

		if (r > 0) {
			got += r;
			continue;
		}
		if (r == 0)
			return got ? (ssize_t)got : 0;
		if (errno != EAGAIN)
			return -errno;
		pump(d);
		if (now() - t0 > timeout_s)
			return got ? (ssize_t)got : -ETIMEDOUT;
		nap();
	}
	return got;
}

/* host_send: all of n bytes from the host socket, pumping the guest. */
static int host_send(struct dev *d, int fd, const void *buf, size_t n)
{
	double t0 = now();
	size_t sent = 0;

	while (sent < n) {
		ssize_t r = send(fd, (const char *)buf + sent, n - sent, MSG_DONTWAIT);

		if (r > 0) {
			sent += r;
			continue;
		}
		if (r < 0 && errno != EAGAIN)
			return -errno;
		pump(d);
		if (now() - t0 > timeout_s)
			return -ETIMEDOUT;
		nap();
	}
	return 0;
}

/* ---- connections -------------------------------------------------------- */

struct conn {
	uint32_t gport, hport;
	int hfd;
	uint32_t peer_buf_alloc;
};

/* conn_open: REQUEST to the listener, RESPONSE, accept. */
static int conn_open(struct dev *d, struct conn *c)
{
	struct pkt *p;

	c->gport = next_port++;
	c->hport = listen_port;
	c->hfd = -1;
	if (tx_op(d, VIRTIO_VSOCK_OP_REQUEST, c->gport, c->hport) < 0) {
		fail_detail("REQUEST not sent (TX ring full)");
		return -1;
	}
	p = wait_pkt(d, 0, c->gport, c->hport);
	if (!p || p->h.op != VIRTIO_VSOCK_OP_RESPONSE) {
		fail_detail("no RESPONSE to a valid REQUEST (%s)",
			    p ? "got another op" : "nothing");
		return -1;
	}
	c->peer_buf_alloc = p->h.buf_alloc;
	c->hfd = host_accept(d, listener, timeout_s);
	if (c->hfd < 0) {
		fail_detail("host accept failed after RESPONSE");
		return -1;
	}
	return 0;
}

/* conn_data: RW guest to host, then host to guest. */
static int conn_data(struct dev *d, struct conn *c)
{
	char out[32], in[32];
	int n = snprintf(out, sizeof(out), "ping %u", c->gport);
	struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c->gport, c->hport, n);
	struct pkt *p;
	ssize_t r;

	if (tx_pkt(d, &h, out, n) < 0) {
		fail_detail("RW not sent");
		return -1;
	}
	r = host_recv(d, c->hfd, in, n);
	if (r != n || memcmp(in, out, n)) {
		fail_detail("host got %zd bytes of a %d-byte RW", r, n);
		return -1;
	}
	n = snprintf(out, sizeof(out), "pong %u", c->gport);
	if (send(c->hfd, out, n, MSG_DONTWAIT) != n) {
		fail_detail("host send: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		p = wait_pkt(d, 0, c->gport, c->hport);
		if (!p) {
			fail_detail("guest got no RW from the host");
			return -1;
		}
		if (p->h.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE)
			continue;
		break;
	}
	if (p->h.op != VIRTIO_VSOCK_OP_RW || p->h.len != (uint32_t)n ||
	    memcmp(p->data, out, n)) {
		fail_detail("guest got op %u len %u instead of a %d-byte RW", p->h.op,
			    p->h.len, n);
		return -1;
	}
	return 0;
}

/* conn_close: the guest resets, the host closes. */
static void conn_close(struct dev *d, struct conn *c)
{
	tx_op(d, VIRTIO_VSOCK_OP_RST, c->gport, c->hport);
	if (c->hfd >= 0)
		close(c->hfd);
	c->hfd = -1;
	pump(d);
}

/* sane: a new connection carries data both ways; RST for an unbound
 * port. */
static int sane(struct dev *d)
{
	struct conn c;
	int r;

	r = conn_open(d, &c);
	if (!r)
		r = conn_data(d, &c);
	conn_close(d, &c);
	if (!r && barrier(d)) {
		fail_detail("no RST for a REQUEST to an unbound port");
		r = -1;
	}
	return r;
}

/* ---- cases -------------------------------------------------------------- */

static uint64_t next_cid = 1000;

static void result(const char *name, int ok)
{
	if (ok && !detail[0]) {
		printf("vhostile: %s ok\n", name);
		passed++;
	} else {
		printf("vhostile: %s FAIL %s\n", name, detail[0] ? detail : "");
		failed++;
	}
	fflush(stdout);
	detail[0] = 0;
}

/* Each case: a fresh device, the hostile part, then sane() on it. */
typedef int (*case_fn)(struct dev *d);

static void run_case(const char *name, case_fn fn)
{
	struct dev d;
	int r;

	/* Devices opened by a "small_ring" case have rings of 8. */
	qsz[RXQ] = qsz[TXQ] = strncmp(name, "small_ring", 10) ? QSZ : 8;

	detail[0] = 0;
	r = dev_open(&d, next_cid++);
	if (r) {
		fail_detail("device set-up: %s", strerror(-r));
		dev_close(&d);
		result(name, 0);
		return;
	}
	for (int i = 0; i < RX_POSTED; i++)
		rx_post(&d, RX_BUF, 1);
	kick(&d, RXQ);
	r = fn(&d);
	if (!r && sane(&d))
		r = -1;
	dev_close(&d);
	qsz[RXQ] = qsz[TXQ] = QSZ;
	result(name, r == 0);
}

/* expect_dropped: after a barrier, no reply came to gport and the TX head
 * was (used != 0) or was not returned in the used ring. */
static int expect_quiet(struct dev *d, uint32_t gport, int head, int used, const char *what)
{
	if (barrier(d)) {
		fail_detail("%s: no RST for the barrier REQUEST", what);
		return -1;
	}
	if (count_to(d, 0, gport)) {
		fail_detail("%s: %d unexpected replies (first op %u)", what, count_to(d, 0, gport),
			    find(d, 0, gport, listen_port) ? find(d, 0, gport, listen_port)->h.op : 0);
		return -1;
	}
	if (head >= 0 && d->vq[TXQ].used_seen[head] != used) {
		fail_detail("%s: descriptor %s the used ring (C: %s)", what,
			    used ? "not returned to" : "returned to",
			    used ? "returned" : "dropped without a used entry");
		return -1;
	}
	return 0;
}

static int no_accept(const char *what)
{
	int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);

	if (fd >= 0) {
		close(fd);
		fail_detail("%s: the host accepted a connection", what);
		return -1;
	}
	return 0;
}

static int case_rig(struct dev *d)
{
	(void)d;
	return 0; /* sane() is the case */
}

/* C: packets whose src_cid is not the guest's CID are freed; the
 * descriptor is used (len 0); no reply. */
static int case_spoof_src(struct dev *d)
{
	uint64_t cids[] = { d->cid + 1, HOST_CID, 1, 0, d->cid | (1ULL << 32), UINT64_MAX };
	unsigned i;

	for (i = 0; i < sizeof(cids) / sizeof(cids[0]); i++) {
		uint32_t p = next_port++;
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_REQUEST, p, listen_port, 0);
		int head;

		h.src_cid = cids[i];
		head = tx_pkt(d, &h, NULL, 0);
		if (expect_quiet(d, p, head, 1, "spoofed src_cid") || no_accept("spoofed src_cid"))
			return -1;
	}
	return 0;
}

/* C: dst_cid other than the host's (2) is freed; used; no reply. */
static int case_dst_not_host(struct dev *d)
{
	uint64_t cids[] = { 1, 0, 3, d->cid, VMADDR_CID_ANY, HOST_CID | (1ULL << 32) };
	unsigned i;

	for (i = 0; i < sizeof(cids) / sizeof(cids[0]); i++) {
		uint32_t p = next_port++;
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_REQUEST, p, listen_port, 0);
		int head;

		h.dst_cid = cids[i];
		head = tx_pkt(d, &h, NULL, 0);
		if (expect_quiet(d, p, head, 1, "dst_cid not the host") ||
		    no_accept("dst_cid not the host"))
			return -1;
	}
	return 0;
}

/* C: hdr.len + 44 > chain length: dropped, no used entry, nothing
 * delivered; the connection lives on. */
static int case_len_gt_chain(struct dev *d)
{
	struct conn c;
	char pay[50], buf[8];
	struct virtio_vsock_hdr h;
	int head, r = -1;

	if (conn_open(d, &c))
		return -1;
	memset(pay, 'x', sizeof(pay));
	h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, 100);
	head = tx_pkt(d, &h, pay, sizeof(pay));
	if (expect_quiet(d, c.gport, head, 0, "hdr.len > chain"))
		goto out;
	if (recv(c.hfd, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail_detail("host received data of a dropped packet");
		goto out;
	}
	/* Also a header claiming 64 KiB in a 44-byte chain, and ~0. */
	h.len = MAX_PKT;
	head = tx_pkt(d, &h, NULL, 0);
	if (expect_quiet(d, c.gport, head, 0, "hdr.len 64K, no payload"))
		goto out;
	h.len = UINT32_MAX;
	head = tx_pkt(d, &h, pay, sizeof(pay));
	if (expect_quiet(d, c.gport, head, 0, "hdr.len U32_MAX"))
		goto out;
	r = conn_data(d, &c);
out:
	conn_close(d, &c);
	return r;
}

/* C: hdr.len smaller than the chain's payload: hdr.len bytes are taken,
 * the rest ignored; used. */
static int case_len_lt_payload(struct dev *d)
{
	struct conn c;
	char pay[100], buf[100];
	struct virtio_vsock_hdr h;
	int head, r = -1;
	ssize_t n;

	if (conn_open(d, &c))
		return -1;
	for (unsigned i = 0; i < sizeof(pay); i++)
		pay[i] = 'a' + i % 26;
	h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, 5);
	head = tx_pkt(d, &h, pay, sizeof(pay));
	if (expect_quiet(d, c.gport, head, 1, "hdr.len < payload"))
		goto out;
	n = recv(c.hfd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n != 5 || memcmp(buf, pay, 5)) {
		fail_detail("host got %zd bytes, C gives hdr.len (5)", n);
		goto out;
	}
	r = conn_data(d, &c);
out:
	conn_close(d, &c);
	return r;
}

/* C: chains shorter than a header (0, 1, 43 bytes) are dropped without a
 * used entry. */
static int case_short_chain(struct dev *d)
{
	uint32_t lens[] = { 0, 1, 43 };
	struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_REQUEST, 0, listen_port, 0);

	for (unsigned i = 0; i < 3; i++) {
		struct seg s = { &h, lens[i], 0 };
		int head;

		h.src_port = next_port++;
		head = tx(d, &s, 1);
		if (expect_quiet(d, h.src_port, head, 0, "chain shorter than a header") ||
		    no_accept("short chain"))
			return -1;
	}
	/* 43 bytes over two descriptors (20 + 23). */
	{
		struct seg s[2] = { { &h, 20, 0 }, { (char *)&h + 20, 23, 0 } };
		int head;

		h.src_port = next_port++;
		head = tx(d, s, 2);
		if (expect_quiet(d, h.src_port, head, 0, "43 bytes in two descriptors"))
			return -1;
	}
	return 0;
}

/* C: a header split over several descriptors is a valid packet. */
static int case_split_header(struct dev *d)
{
	struct virtio_vsock_hdr h;
	struct pkt *p;
	struct conn c;
	char pay[] = "split payload", buf[sizeof(pay)];
	uint8_t raw[HDR + sizeof(pay)];
	int fd, r = -1;
	ssize_t n;

	c.gport = next_port++;
	c.hport = listen_port;
	h = mkhdr(d, VIRTIO_VSOCK_OP_REQUEST, c.gport, c.hport, 0);
	{
		struct seg s[3] = { { &h, 1, 0 }, { (char *)&h + 1, 20, 0 },
				    { (char *)&h + 21, HDR - 21, 0 } };
		tx(d, s, 3);
	}
	p = wait_pkt(d, 0, c.gport, c.hport);
	if (!p || p->h.op != VIRTIO_VSOCK_OP_RESPONSE) {
		fail_detail("no RESPONSE to a REQUEST whose header spans 3 descriptors");
		return -1;
	}
	fd = host_accept(d, listener, timeout_s);
	if (fd < 0) {
		fail_detail("no accept for the split REQUEST");
		return -1;
	}
	c.hfd = fd;
	h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, sizeof(pay));
	memcpy(raw, &h, HDR);
	memcpy(raw + HDR, pay, sizeof(pay));
	{
		/* header 30 + 14, payload 3 + 4 + rest, one descriptor
		 * straddling header and payload. */
		struct seg s[4] = { { raw, 30, 0 }, { raw + 30, 17, 0 },
				    { raw + 47, 4, 0 }, { raw + 51, sizeof(raw) - 51, 0 } };
		tx(d, s, 4);
	}
	n = host_recv(d, fd, buf, sizeof(pay));
	if (n != (ssize_t)sizeof(pay) || memcmp(buf, pay, sizeof(pay))) {
		fail_detail("split RW: host got %zd bytes", n);
		goto out;
	}
	r = conn_data(d, &c);
out:
	conn_close(d, &c);
	return r;
}

/* C: a TX chain with writable descriptors (in != 0) is dropped, no used
 * entry. */
static int case_tx_write_only(struct dev *d)
{
	struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_REQUEST, 0, listen_port, 0);
	int head;

	h.src_port = next_port++;
	{
		struct seg s = { &h, HDR, 1 };

		head = tx(d, &s, 1);
	}
	if (expect_quiet(d, h.src_port, head, 0, "write-only TX descriptor") ||
	    no_accept("write-only TX descriptor"))
		return -1;
	/* Readable header, writable payload descriptor. */
	h.src_port = next_port++;
	{
		struct seg s[2] = { { &h, HDR, 0 }, { NULL, 64, 1 } };

		head = tx(d, s, 2);
	}
	if (expect_quiet(d, h.src_port, head, 0, "readable header + writable descriptor") ||
	    no_accept("writable payload descriptor"))
		return -1;
	return 0;
}

/* C: an unknown op to an unbound port or to a listener gets a RST; on a
 * connected socket it is ignored (no reply, connection intact). */
static int case_unknown_op(struct dev *d)
{
	uint32_t p = next_port++;
	struct conn c;
	struct pkt *r;
	int head, ret = -1;

	tx_op(d, 99, p, unbound_port);
	r = wait_pkt(d, 0, p, unbound_port);
	if (!r || r->h.op != VIRTIO_VSOCK_OP_RST) {
		fail_detail("unknown op to an unbound port: %s (C: RST)", r ? "other op" : "no reply");
		return -1;
	}
	p = next_port++;
	tx_op(d, 99, p, listen_port);
	r = wait_pkt(d, 0, p, listen_port);
	if (!r || r->h.op != VIRTIO_VSOCK_OP_RST) {
		fail_detail("unknown op to a listener: %s (C: RST)", r ? "other op" : "no reply");
		return -1;
	}
	p = next_port++;
	tx_op(d, VIRTIO_VSOCK_OP_INVALID, p, listen_port);
	r = wait_pkt(d, 0, p, listen_port);
	if (!r || r->h.op != VIRTIO_VSOCK_OP_RST) {
		fail_detail("op 0 to a listener: %s (C: RST)", r ? "other op" : "no reply");
		return -1;
	}
	if (conn_open(d, &c))
		return -1;
	head = tx_op(d, 99, c.gport, c.hport);
	if (expect_quiet(d, c.gport, head, 1, "unknown op on a connection"))
		goto out;
	head = tx_op(d, 0xffff, c.gport, c.hport);
	if (expect_quiet(d, c.gport, head, 1, "op 0xffff on a connection"))
		goto out;
	ret = conn_data(d, &c);
out:
	conn_close(d, &c);
	return ret;
}

/* C: an unknown type gets a RST (of that type), whatever the port; an
 * established connection is not affected. */
static int case_unknown_type(struct dev *d)
{
	uint16_t types[] = { 0, 3, 7, 0xffff };
	struct conn c;
	int ret = -1;

	for (unsigned i = 0; i < 4; i++) {
		uint32_t p = next_port++;
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_REQUEST, p, listen_port, 0);
		struct pkt *r;

		h.type = types[i];
		tx_pkt(d, &h, NULL, 0);
		r = wait_pkt(d, 0, p, listen_port);
		if (!r || r->h.op != VIRTIO_VSOCK_OP_RST || r->h.type != types[i]) {
			fail_detail("type %u: %s op %u type %u (C: RST of that type)", types[i],
				    r ? "got" : "no reply", r ? r->h.op : 0, r ? r->h.type : 0);
			return -1;
		}
		if (no_accept("unknown type"))
			return -1;
	}
	/* SEQPACKET to a STREAM listener: RST (type mismatch). */
	{
		uint32_t p = next_port++;
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_REQUEST, p, listen_port, 0);
		struct pkt *r;

		h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
		tx_pkt(d, &h, NULL, 0);
		r = wait_pkt(d, 0, p, listen_port);
		if (!r || r->h.op != VIRTIO_VSOCK_OP_RST) {
			fail_detail("SEQPACKET REQUEST to a STREAM listener: no RST");
			return -1;
		}
	}
	if (conn_open(d, &c))
		return -1;
	{
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, 4);
		struct pkt *r;

		h.type = 9;
		tx_pkt(d, &h, "junk", 4);
		r = wait_pkt(d, 0, c.gport, c.hport);
		if (!r || r->h.op != VIRTIO_VSOCK_OP_RST || r->h.type != 9) {
			fail_detail("RW of type 9 on a connection: %s (C: RST of type 9)",
				    r ? "other reply" : "no reply");
			goto out;
		}
	}
	ret = conn_data(d, &c);
out:
	conn_close(d, &c);
	return ret;
}

/* C: RW beyond the buf_alloc the host advertised: RST to the guest, the
 * host socket fails with ENOBUFS (after its queued data). */
static int case_credit_overrun(struct dev *d)
{
	static char big[MAX_PKT];
	struct conn c;
	struct pkt *r = NULL;
	uint32_t sent = 0;
	int ret = -1, err = 0, i;
	socklen_t l = sizeof(err);

	if (conn_open(d, &c))
		return -1;
	memset(big, 'c', sizeof(big));
	for (i = 0; i < 64 && sent <= c.peer_buf_alloc; i++) {
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, MAX_PKT);

		tx_pkt(d, &h, big, MAX_PKT);
		sent += MAX_PKT;
	}
	r = wait_pkt(d, 0, c.gport, c.hport);
	while (r && r->h.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE)
		r = wait_pkt(d, 0, c.gport, c.hport);
	if (!r || r->h.op != VIRTIO_VSOCK_OP_RST) {
		fail_detail("%u bytes sent over buf_alloc %u: %s (C: RST)", sent, c.peer_buf_alloc,
			    r ? "other reply" : "no reply");
		goto out;
	}
	if (getsockopt(c.hfd, SOL_SOCKET, SO_ERROR, &err, &l) || err != ENOBUFS) {
		fail_detail("host socket error %d after the overrun (C: ENOBUFS)", err);
		goto out;
	}
	ret = 0;
out:
	conn_close(d, &c);
	return ret;
}

/* wait_rsts: waits until the guest ports base to base + n - 1 each got a
 * RST, then for a barrier (a second RST to one of them would come before
 * the barrier's); the number of those ports that got one, or -1 when one
 * got two.  The packets are taken. */
static int wait_rsts(struct dev *d, uint32_t base, int n)
{
	uint8_t *seen = calloc(n > 0 ? n : 1, 1);
	int i, got = 0, dup = 0, counted = 0, fenced = 0;
	double t0 = now();

	if (!seen) {
		fail_detail("wait_rsts: out of memory");
		return 0;
	}
	for (;;) {
		pump(d);
		for (; counted < d->npkts; counted++) {
			struct pkt *p = &d->pkts[counted];
			uint32_t k = p->h.dst_port - base;

			if (p->h.op != VIRTIO_VSOCK_OP_RST || k >= (uint32_t)n)
				continue;
			if (seen[k])
				dup = 1;
			else
				got++;
			seen[k] = 1;
		}
		if (dup || (got == n && fenced))
			break;
		if (got == n) {
			/* Its RST goes to a port outside the range. */
			if (barrier(d)) {
				fail_detail("no RST for the barrier REQUEST after %d RSTs", n);
				break;
			}
			fenced = 1;
			continue;
		}
		if (now() - t0 >= timeout_s)
			break;
		nap();
	}
	free(seen);
	for (i = 0; i < d->npkts; i++)
		d->pkts[i].taken = 1;
	d->npkts = 0;
	return dup ? -1 : got;
}

/* flood_unbound: n REQUESTs to an unbound port; each must get one RST (the
 * backend throttles TX while replies wait for RX buffers, and loses none). */
static int flood_unbound(struct dev *d, int n)
{
	uint32_t base = next_port;
	int i, got;

	next_port += n;
	for (i = 0; i < n; i++)
		if (tx_op(d, VIRTIO_VSOCK_OP_REQUEST, base + i, unbound_port) < 0) {
			fail_detail("TX ring stuck after %d REQUESTs", i);
			return -1;
		}
	got = wait_rsts(d, base, n);
	if (got != n) {
		fail_detail(got < 0 ? "a second RST to one port (C: one each)"
				    : "%d of %d REQUESTs to an unbound port got a RST (C: each one)",
			    got, n);
		return -1;
	}
	return 0;
}

/* C: every REQUEST to an unbound port gets one RST. */
static int case_flood_request(struct dev *d)
{
	return flood_unbound(d, 3000);
}

/* C: a REQUEST flood to a listener with backlog B: B + 1 RESPONSEs (then
 * the accept queue is full), a RST for every other one. */
static int case_flood_listener(struct dev *d)
{
	const int n = 1000, backlog = 8;
	uint32_t port = 2048, base = next_port;
	int lfd = host_listen(port, backlog), i, resp = 0, rst = 0, ret = -1;
	double t0;

	if (lfd < 0) {
		fail_detail("host listen: %s", strerror(errno));
		return -1;
	}
	next_port += n;
	for (i = 0; i < n; i++)
		if (tx_op(d, VIRTIO_VSOCK_OP_REQUEST, base + i, port) < 0) {
			fail_detail("TX ring stuck after %d REQUESTs", i);
			goto out;
		}
	t0 = now();
	while (resp + rst < n && now() - t0 < timeout_s) {
		pump(d);
		resp = rst = 0;
		for (i = 0; i < d->npkts; i++) {
			if (d->pkts[i].h.dst_port - base >= (uint32_t)n)
				continue;
			resp += d->pkts[i].h.op == VIRTIO_VSOCK_OP_RESPONSE;
			rst += d->pkts[i].h.op == VIRTIO_VSOCK_OP_RST;
		}
		if (resp + rst < n)
			nap();
	}
	if (resp != backlog + 1 || rst != n - backlog - 1) {
		fail_detail("%d REQUESTs, backlog %d: %d RESPONSE, %d RST (C: %d, %d)", n, backlog,
			    resp, rst, backlog + 1, n - backlog - 1);
		goto out;
	}
	/* The guest resets the ones that were accepted. */
	for (i = 0; i < d->npkts; i++)
		if (d->pkts[i].h.op == VIRTIO_VSOCK_OP_RESPONSE &&
		    d->pkts[i].h.dst_port - base < (uint32_t)n)
			tx_op(d, VIRTIO_VSOCK_OP_RST, d->pkts[i].h.dst_port, port);
	ret = 0;
out:
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, 0);

		if (fd < 0)
			break;
		close(fd);
	}
	close(lfd);
	d->npkts = 0;
	return ret;
}

/* C: RSTs (to nothing, to a listener, to an unbound port) get no reply. */
static int case_flood_rst(struct dev *d)
{
	const int n = 3000;
	int i;

	for (i = 0; i < n; i++) {
		uint32_t dport = i % 3 == 0 ? listen_port : i % 3 == 1 ? unbound_port : 30000 + i;

		if (tx_op(d, VIRTIO_VSOCK_OP_RST, next_port + i, dport) < 0) {
			fail_detail("TX ring stuck after %d RSTs", i);
			return -1;
		}
	}
	next_port += n;
	if (barrier(d)) {
		fail_detail("no RST for the barrier after the RST flood");
		return -1;
	}
	for (i = 0; i < d->npkts; i++)
		if (!d->pkts[i].taken) {
			fail_detail("a reply (op %u) to a RST", d->pkts[i].h.op);
			return -1;
		}
	d->npkts = 0;
	return no_accept("RST flood");
}

/* C: an RW of length 0 is queued as nothing; no reply. */
static int case_zero_rw(struct dev *d)
{
	struct conn c;
	char buf[8];
	int ret = -1, head, i;

	if (conn_open(d, &c))
		return -1;
	for (i = 0; i < 100; i++) {
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, 0);

		head = tx_pkt(d, &h, NULL, 0);
	}
	if (expect_quiet(d, c.gport, head, 1, "zero-length RW"))
		goto out;
	if (recv(c.hfd, buf, sizeof(buf), MSG_DONTWAIT) != -1 || errno != EAGAIN) {
		fail_detail("host recv after zero-length RWs: not EAGAIN");
		goto out;
	}
	ret = conn_data(d, &c);
out:
	conn_close(d, &c);
	return ret;
}

/* C: 64 KiB of payload is the maximum: 64 KiB + 1 (in one chain of 44 +
 * 65537 bytes) is dropped without a used entry; exactly 64 KiB arrives. */
static int case_64k_plus_1(struct dev *d)
{
	static char big[MAX_PKT + 1], in[MAX_PKT];
	struct conn c;
	int ret = -1, head;
	ssize_t n;

	if (conn_open(d, &c))
		return -1;
	memset(big, 'b', sizeof(big));
	{
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, MAX_PKT + 1);

		head = tx_pkt(d, &h, big, MAX_PKT + 1);
		if (expect_quiet(d, c.gport, head, 0, "64 KiB + 1"))
			goto out;
		if (recv(c.hfd, in, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN) {
			fail_detail("host received data of a 64 KiB + 1 packet");
			goto out;
		}
		/* Header says 64 KiB + 1, chain has 64 KiB of payload. */
		head = tx_pkt(d, &h, big, MAX_PKT);
		if (expect_quiet(d, c.gport, head, 0, "hdr.len 64 KiB + 1 in a 64 KiB chain"))
			goto out;
		h.len = MAX_PKT;
		head = tx_pkt(d, &h, big, MAX_PKT);
		n = host_recv(d, c.hfd, in, MAX_PKT);
		if (n != MAX_PKT) {
			fail_detail("a 64 KiB packet: host got %zd bytes", n);
			goto out;
		}
	}
	ret = conn_data(d, &c);
out:
	conn_close(d, &c);
	return ret;
}

/* C: reserved CIDs EINVAL, a CID in use EADDRINUSE, the same CID again on
 * the same device 0, a CID freed by close reusable at once. */
static int case_set_cid(struct dev *d)
{
	uint64_t bad[] = { 0, 1, 2, UINT32_MAX, 1ULL << 32, UINT64_MAX };
	struct dev o;
	uint64_t cid;
	int r;

	r = dev_open_raw(&o);
	if (r) {
		fail_detail("open: %s", strerror(-r));
		return -1;
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cid = bad[i];
		r = ioctl(o.fd, VHOST_VSOCK_SET_GUEST_CID, &cid);
		if (r != -1 || errno != EINVAL) {
			fail_detail("SET_GUEST_CID %llu: %s (C: EINVAL)", (unsigned long long)cid,
				    r ? strerror(errno) : "accepted");
			goto bad;
		}
	}
	cid = d->cid;
	r = ioctl(o.fd, VHOST_VSOCK_SET_GUEST_CID, &cid);
	if (r != -1 || errno != EADDRINUSE) {
		fail_detail("SET_GUEST_CID of a CID in use: %s (C: EADDRINUSE)",
			    r ? strerror(errno) : "accepted");
		goto bad;
	}
	r = ioctl(d->fd, VHOST_VSOCK_SET_GUEST_CID, &cid);
	if (r) {
		fail_detail("SET_GUEST_CID of its own CID again: %s (C: 0)", strerror(errno));
		goto bad;
	}
	cid = next_cid++;
	r = ioctl(o.fd, VHOST_VSOCK_SET_GUEST_CID, &cid);
	if (r) {
		fail_detail("SET_GUEST_CID %llu on an unowned device: %s (C: 0)",
			    (unsigned long long)cid, strerror(errno));
		goto bad;
	}
	close(o.fd);
	/* Closed: its CID is free at once. */
	r = dev_open_raw(&o);
	if (r) {
		fail_detail("open: %s", strerror(-r));
		return -1;
	}
	r = ioctl(o.fd, VHOST_VSOCK_SET_GUEST_CID, &cid);
	if (r) {
		fail_detail("SET_GUEST_CID of a CID just freed by close: %s (C: 0)", strerror(errno));
		goto bad;
	}
	close(o.fd);
	return 0;
bad:
	close(o.fd);
	return -1;
}

/* C: an RX buffer too small for a header (or read-only) is consumed
 * without a used entry and the packet is lost; the next packets use the
 * next buffers.  (C does not give the reply's credit back: 256 such losses
 * would stop TX; not checked.) */
static int case_rx_small(struct dev *d)
{
	struct dev e;
	uint32_t lens[] = { 0, 1, 43 }, ports[4];
	int r, ret = -1;

	/* A device of its own whose RX ring holds only the bad buffers. */
	r = dev_open(&e, next_cid++);
	if (r) {
		fail_detail("device set-up: %s", strerror(-r));
		return -1;
	}
	e.rx_repost = 0;
	for (unsigned i = 0; i < 4; i++) {
		uint32_t p = next_port++;
		int head, w = i < 3;

		ports[i] = p;
		head = rx_post(&e, w ? lens[i] : RX_BUF, w);
		kick(&e, RXQ);
		tx_op(&e, VIRTIO_VSOCK_OP_REQUEST, p, unbound_port);
		/* Wait until the buffer is consumed (avail index seen). */
		{
			double t0 = now();

			while (now() - t0 < 2.0 && !e.vq[RXQ].used_seen[head]) {
				pump(&e);
				nap();
			}
		}
		pump(&e);
		if (e.vq[RXQ].used_seen[head] || count_to(&e, 0, p)) {
			fail_detail("RX buffer of %u bytes%s: used (C: lost, no used entry)",
				    w ? lens[i] : RX_BUF, w ? "" : " read-only");
			goto out;
		}
	}
	e.rx_repost = 1;
	for (int i = 0; i < RX_POSTED; i++)
		rx_post(&e, RX_BUF, 1);
	kick(&e, RXQ);
	ret = sane(&e);
	/* The lost replies do not come later either (sane ends with a
	 * barrier). */
	for (unsigned i = 0; !ret && i < 4; i++)
		if (count_to(&e, 0, ports[i])) {
			fail_detail("the reply lost to a bad RX buffer came later");
			ret = -1;
		}
out:
	dev_close(&e);
	return ret;
}

/* C: closing the device with packets in flight both ways resets the host's
 * sockets to that guest (ECONNRESET), and frees what was queued. */
static int case_close_in_flight(struct dev *d)
{
	static char big[MAX_PKT];
	struct dev e;
	struct conn c[4];
	int r, ret = -1, i, k, err;
	socklen_t l;

	r = dev_open(&e, next_cid++);
	if (r) {
		fail_detail("device set-up: %s", strerror(-r));
		return -1;
	}
	for (i = 0; i < RX_POSTED; i++)
		rx_post(&e, RX_BUF, 1);
	kick(&e, RXQ);
	for (k = 0; k < 4; k++)
		if (conn_open(&e, &c[k])) {
			dev_close(&e);
			return -1;
		}
	/* Stop taking RX: the host's data piles up in the backend. */
	e.rx_repost = 0;
	memset(big, 'f', sizeof(big));
	for (k = 0; k < 4; k++)
		for (i = 0; i < 8; i++)
			if (send(c[k].hfd, big, sizeof(big), MSG_DONTWAIT) < 0)
				break;
	/* TX packets made available, some kicked, some not. */
	for (k = 0; k < 4; k++) {
		struct virtio_vsock_hdr h = mkhdr(&e, VIRTIO_VSOCK_OP_RW, c[k].gport, c[k].hport, 1024);

		tx_pkt(&e, &h, big, 1024);
	}
	{
		struct virtio_vsock_hdr h = mkhdr(&e, VIRTIO_VSOCK_OP_RW, c[0].gport, c[0].hport, 0);
		struct seg s = { &h, HDR, 0 };

		add_chain(&e, TXQ, &s, 1); /* made available, not kicked */
	}
	dev_close(&e);
	for (k = 0; k < 4; k++) {
		struct pollfd p = { .fd = c[k].hfd, .events = POLLIN };
		char buf[2048];
		ssize_t n;

		if (poll(&p, 1, (int)(timeout_s * 1000)) != 1) {
			fail_detail("host socket %d: no event after the device closed", k);
			goto out;
		}
		err = 0;
		l = sizeof(err);
		getsockopt(c[k].hfd, SOL_SOCKET, SO_ERROR, &err, &l);
		/* Drain what the guest's kicked RW delivered, then the error. */
		do
			n = recv(c[k].hfd, buf, sizeof(buf), MSG_DONTWAIT);
		while (n > 0);
		if (err != ECONNRESET) {
			fail_detail("host socket %d after close: SO_ERROR %d, recv %zd (%s) (C: ECONNRESET)",
				    k, err, n, n < 0 ? strerror(errno) : "EOF");
			goto out;
		}
		if (send(c[k].hfd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) != -1) {
			fail_detail("host socket %d: send succeeded after the reset", k);
			goto out;
		}
	}
	ret = 0;
out:
	for (k = 0; k < 4; k++)
		close(c[k].hfd);
	(void)d;
	return ret;
}

/* C: features beyond the offered ones are refused (EOPNOTSUPP); the
 * offered ones are VERSION_1, ACCESS_PLATFORM, SEQPACKET and vhost's
 * common bits. */
static int case_features(struct dev *d)
{
	struct dev o;
	uint64_t f, bad;
	int r;

	(void)d;
	r = dev_open_raw(&o);
	if (r) {
		fail_detail("open: %s", strerror(-r));
		return -1;
	}
	if (ioctl(o.fd, VHOST_SET_OWNER) || ioctl(o.fd, VHOST_GET_FEATURES, &f)) {
		fail_detail("SET_OWNER/GET_FEATURES: %s", strerror(errno));
		close(o.fd);
		return -1;
	}
	printf("vhostile: features 0x%llx\n", (unsigned long long)f);
	bad = f | (1ULL << 63);
	r = ioctl(o.fd, VHOST_SET_FEATURES, &bad);
	if (r != -1 || errno != EOPNOTSUPP) {
		fail_detail("SET_FEATURES with bit 63: %s (C: EOPNOTSUPP)",
			    r ? strerror(errno) : "accepted");
		close(o.fd);
		return -1;
	}
	/* SET_RUNNING before the rings are set up. */
	r = 1;
	if (ioctl(o.fd, VHOST_VSOCK_SET_RUNNING, &r) != -1) {
		fail_detail("SET_RUNNING without rings accepted");
		close(o.fd);
		return -1;
	}
	printf("vhostile: SET_RUNNING without rings: %s\n", strerror(errno));
	close(o.fd);
	return 0;
}

/* publish: make head available on TX without add_chain's bookkeeping. */
static void publish(struct dev *d, uint16_t head)
{
	struct vq *v = &d->vq[TXQ];

	v->avail->ring[v->avail_idx % v->num] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	v->avail_idx++;
	__atomic_store_n(&v->avail->idx, v->avail_idx, __ATOMIC_RELEASE);
	kick(d, TXQ);
}

/* throttle_on: a device with rings of tx_num (TX) and rx_num (RX) entries
 * and no RX buffers posted.  REQUESTs to an unbound port are posted as TX
 * descriptors come back (up to n), until the backend has taken tx_num of
 * them and then, with one more kick, none for 2 s: it must have taken
 * exactly tx_num, each leaving a RST that waits for an RX buffer.  Then RX
 * buffers come: every REQUEST, the rest posted now, must get its RST.
 * sane() on the device follows. */
static int throttle_on(unsigned int tx_num, unsigned int rx_num)
{
	const int n = 40;
	uint32_t base;
	int posted = 0, got, i, r, ret = -1;
	unsigned int taken;
	double t0, settle = 0;
	struct dev e;

	qsz[TXQ] = tx_num;
	qsz[RXQ] = rx_num;
	r = dev_open(&e, next_cid++);
	qsz[TXQ] = qsz[RXQ] = QSZ;
	if (r) {
		fail_detail("device set-up: %s", strerror(-r));
		goto out;
	}
	base = next_port;
	next_port += n;
	t0 = now();
	while (settle ? now() - settle < 2.0 : now() - t0 < timeout_s) {
		if (posted < n) {
			struct virtio_vsock_hdr h = mkhdr(&e, VIRTIO_VSOCK_OP_REQUEST, base + posted,
							  unbound_port, 0);
			struct seg sg = { &h, HDR, 0 };

			if (add_chain(&e, TXQ, &sg, 1) >= 0) {
				posted++;
				kick(&e, TXQ);
				continue;
			}
		}
		pump(&e);
		if (!settle && e.vq[TXQ].used_total >= tx_num) {
			/* Taken up to the limit: anything more would come
			 * now, with this kick or the posts after it. */
			settle = now();
			kick(&e, TXQ);
		}
		nap();
	}
	taken = e.vq[TXQ].used_total;
	if (taken != tx_num) {
		fail_detail("rings TX %u, RX %u, no RX buffers: %u of %d REQUESTs taken (C: %u, the "
			    "TX ring's size)", tx_num, rx_num, taken, posted, tx_num);
		goto out;
	}
	for (i = 0; i < (int)rx_num; i++)
		rx_post(&e, RX_BUF, 1);
	kick(&e, RXQ);
	for (; posted < n; posted++)
		if (tx_op(&e, VIRTIO_VSOCK_OP_REQUEST, base + posted, unbound_port) < 0) {
			fail_detail("rings TX %u, RX %u: TX ring stuck after %d REQUESTs with RX "
				    "buffers posted", tx_num, rx_num, posted);
			goto out;
		}
	got = wait_rsts(&e, base, n);
	if (got != n) {
		fail_detail(got < 0 ? "rings TX %u, RX %u: a second RST to one port (C: one each)"
				    : "rings TX %u, RX %u: %d of %d REQUESTs got a RST (C: each one)",
			    tx_num, rx_num, got, n);
		goto out;
	}
	if (sane(&e))
		goto out;
	ret = 0;
out:
	dev_close(&e);
	return ret;
}

/* reply_throttle: which ring the reply throttle counts.  C
 * (vhost_vsock_more_replies): the backend takes packets from the TX ring
 * only while fewer replies wait for RX buffers than the TX ring has
 * entries.  With rings of TX 8 / RX 16 it takes 8 REQUESTs, with TX 16 /
 * RX 8 it takes 16; then all 40 get their RST. */
static int case_reply_throttle(struct dev *d)
{
	(void)d;
	if (throttle_on(8, 16) || throttle_on(16, 8))
		return -1;
	return 0; /* sane() on the case's own device follows */
}

/* C: a malformed ring (a descriptor address outside the memory table, a
 * descriptor chain that loops, a head index >= the ring size, an avail
 * index moved by more than the ring size) makes vhost_get_vq_desc() fail
 * without consuming the entry: that device's TX queue stops for good (a
 * later valid REQUEST gets no answer); the host, other devices, and the
 * close of the broken one are fine. */
static int case_bad_ring(struct dev *d)
{
	static const char *what[] = { "descriptor address outside memory",
				      "descriptor loop", "head index >= ring size",
				      "avail index moved by more than the ring size" };

	(void)d;
	for (int kind = 0; kind < 4; kind++) {
		struct dev e;
		struct vq *v;
		uint32_t p = next_port++;
		struct virtio_vsock_hdr h;
		int r, i;

		r = dev_open(&e, next_cid++);
		if (r) {
			fail_detail("device set-up: %s", strerror(-r));
			dev_close(&e);
			return -1;
		}
		for (i = 0; i < RX_POSTED; i++)
			rx_post(&e, RX_BUF, 1);
		kick(&e, RXQ);
		v = &e.vq[TXQ];
		h = mkhdr(&e, VIRTIO_VSOCK_OP_REQUEST, next_port++, unbound_port, 0);
		i = v->free[--v->nfree];
		memcpy(slot(&e, TXQ, i), &h, HDR);
		v->desc[i].addr = gpa(&e, slot(&e, TXQ, i));
		v->desc[i].len = HDR;
		v->desc[i].flags = 0;
		v->desc[i].next = 0;
		switch (kind) {
		case 0:
			v->desc[i].addr = MEM_SIZE + 4096;
			publish(&e, i);
			break;
		case 1:
			v->desc[i].flags = VRING_DESC_F_NEXT;
			v->desc[i].next = i;
			publish(&e, i);
			break;
		case 2:
			publish(&e, v->num + 5);
			break;
		case 3:
			v->avail_idx += v->num + 1;
			__atomic_store_n(&v->avail->idx, v->avail_idx, __ATOMIC_RELEASE);
			kick(&e, TXQ);
			break;
		}
		/* A valid REQUEST behind it: no answer (C). */
		tx_op(&e, VIRTIO_VSOCK_OP_REQUEST, p, unbound_port);
		{
			double t0 = now();

			while (now() - t0 < 2.0 && !find(&e, 0, p, unbound_port)) {
				pump(&e);
				nap();
			}
		}
		if (find(&e, 0, p, unbound_port)) {
			fail_detail("%s: the TX queue went on (C: stops)", what[kind]);
			dev_close(&e);
			return -1;
		}
		dev_close(&e);
	}
	return 0; /* sane() on the case's own device follows */
}

/* small_ring (rings of 8; upstream's QEMU has 128, vhostile's other cases
 * 256): C: the TX ring wraps many times and every REQUEST to an unbound
 * port still gets its RST (the reply throttle counts against the TX ring's
 * 8 entries and loses none); 64 KiB pass each way over one connection in
 * order, host to guest in packets of at most one RX buffer's payload, each
 * byte checked. */
/* The traffic mode's byte pattern (tr_byte) and checking sink (tr_sink) are
 * shared with small_ring. */
static uint32_t tr_gport, tr_hport;
static uint64_t tr_rx_off; /* host to guest bytes received, in order */
static int tr_rx_bad, tr_peer_reset;

static uint8_t tr_byte(uint64_t off, int dir)
{
	uint64_t x = off * 2654435761u + (off >> 12) + (uint64_t)dir * 0x9e37;

	return (uint8_t)(x ^ (x >> 11));
}

static int tr_sink(struct dev *d, const uint8_t *buf, uint32_t plen)
{
	struct virtio_vsock_hdr h;
	uint32_t i;

	(void)d;
	memcpy(&h, buf, HDR);
	if (h.dst_port != tr_gport || h.src_port != tr_hport)
		return 0;
	if (plen > RX_BUF - HDR)
		plen = RX_BUF - HDR;
	switch (h.op) {
	case VIRTIO_VSOCK_OP_RW:
		if (h.len != plen) {
			tr_rx_bad = 1;
			return 1;
		}
		for (i = 0; i < plen; i++)
			if (buf[HDR + i] != tr_byte(tr_rx_off + i, 1))
				tr_rx_bad = 1;
		tr_rx_off += plen;
		return 1;
	case VIRTIO_VSOCK_OP_RST:
		tr_peer_reset = 1;
		return 1;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		return 1;
	default: /* credit updates and requests: not needed in lock step */
		return 1;
	}
}

static int case_small_ring(struct dev *d)
{
	static uint8_t buf[65536];
	const int chunk = 4096;
	int i, ret = -1;
	struct conn c;
	uint32_t off;
	double t0;

	if (flood_unbound(d, 200))
		return -1;
	if (conn_open(d, &c))
		goto out;
	/* Guest to host: 16 packets of 4 KiB through the 8-entry TX ring. */
	for (off = 0; off < sizeof(buf); off += chunk) {
		struct virtio_vsock_hdr h = mkhdr(d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport, chunk);

		for (i = 0; i < chunk; i++)
			buf[off + i] = tr_byte(off + i, 0);
		if (tx_pkt(d, &h, buf + off, chunk) < 0) {
			fail_detail("RW at %u not sent (TX ring stuck)", off);
			goto out;
		}
	}
	{
		static uint8_t in[65536];
		ssize_t r = host_recv(d, c.hfd, in, sizeof(in));

		if (r != (ssize_t)sizeof(in) || memcmp(in, buf, sizeof(in))) {
			fail_detail("host got %zd bytes of 65536 guest to host%s", r,
				    r == (ssize_t)sizeof(in) ? ", not in order" : "");
			goto out;
		}
	}
	/* Host to guest: 64 KiB into 8 RX buffers, reposted as they come. */
	for (off = 0; off < sizeof(buf); off++)
		buf[off] = tr_byte(off, 1);
	tr_gport = c.gport;
	tr_hport = c.hport;
	tr_rx_off = 0;
	tr_rx_bad = 0;
	rx_sink = tr_sink;
	i = host_send(d, c.hfd, buf, sizeof(buf));
	if (i < 0) {
		fail_detail("host send of 64 KiB: %s", strerror(-i));
		goto out;
	}
	t0 = now();
	while (tr_rx_off < sizeof(buf) && !tr_rx_bad && now() - t0 < timeout_s) {
		pump(d);
		if (tr_rx_off < sizeof(buf))
			nap();
	}
	if (tr_rx_bad) {
		fail_detail("host to guest: a packet's length or bytes differ");
		goto out;
	}
	if (tr_rx_off != sizeof(buf)) {
		fail_detail("guest got %llu of 65536 bytes host to guest",
			    (unsigned long long)tr_rx_off);
		goto out;
	}
	ret = 0;
out:
	rx_sink = NULL;
	conn_close(d, &c);
	d->npkts = 0;
	return ret;
}

/* ---- traffic mode (suites/hostcycle.sh) ------------------------------------
 *
 *   vhostile traffic CID PORT BYTES once|forever
 *
 * A well-behaved guest with guest CID CID: it connects to a listener of this
 * machine (the host) on PORT, then passes data both ways in lock step, 4 KiB
 * guest to host (read and checked by the host socket), then 4 KiB host to
 * guest (checked by the guest), each byte a function of its offset and
 * direction.  After BYTES each way it prints "vhostile traffic: BYTES bytes
 * each way ok".  once: then the guest shuts the connection down (the host
 * must read end of file), resets it, checks that the device still answers
 * (RST for a REQUEST to an unbound port), closes the device and exits 0.
 * forever: it goes on until killed (the suite kills it with SIGKILL in the
 * middle of the traffic).  Any failure: "vhostile traffic: FAIL ..." and
 * exit status 1.
 */
#define TR_CHUNK 4096

static int tr_fail(const char *fmt, ...)
{
	va_list ap;

	printf("vhostile traffic: FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

static int traffic_main(int argc, char **argv)
{
	static uint8_t out[TR_CHUNK], in[TR_CHUNK];
	uint64_t cid, bytes, tx_off = 0, i;
	int forever, r, said = 0;
	struct dev d;
	struct conn c;
	double t0;

	if (argc != 6 || (strcmp(argv[5], "once") && strcmp(argv[5], "forever"))) {
		fprintf(stderr, "usage: vhostile traffic CID PORT BYTES once|forever\n");
		return 2;
	}
	cid = strtoull(argv[2], NULL, 0);
	listen_port = strtoul(argv[3], NULL, 0);
	bytes = strtoull(argv[4], NULL, 0);
	forever = !strcmp(argv[5], "forever");
	listener = host_listen(listen_port, 4);
	if (listener < 0)
		return tr_fail("host listener on port %u: %s", listen_port, strerror(errno));
	r = dev_open(&d, cid);
	if (r)
		return tr_fail("device set-up with CID %llu: %s", (unsigned long long)cid,
			       strerror(-r));
	for (i = 0; i < RX_POSTED; i++)
		rx_post(&d, RX_BUF, 1);
	kick(&d, RXQ);
	if (conn_open(&d, &c))
		return tr_fail("connect: %s", detail);
	tr_gport = c.gport;
	tr_hport = c.hport;
	rx_sink = tr_sink;
	t0 = now();
	for (;;) {
		struct virtio_vsock_hdr h = mkhdr(&d, VIRTIO_VSOCK_OP_RW, c.gport, c.hport,
						  TR_CHUNK);
		uint64_t want;
		ssize_t got;

		/* Guest to host. */
		for (i = 0; i < TR_CHUNK; i++)
			out[i] = tr_byte(tx_off + i, 0);
		h.fwd_cnt = (uint32_t)tr_rx_off;
		if (tx_pkt(&d, &h, out, TR_CHUNK) < 0)
			return tr_fail("guest to host at %llu: TX ring full",
				       (unsigned long long)tx_off);
		got = host_recv(&d, c.hfd, in, TR_CHUNK);
		if (got != TR_CHUNK)
			return tr_fail("host read %zd of %d bytes at %llu (%s)", got, TR_CHUNK,
				       (unsigned long long)tx_off,
				       got < 0 ? strerror((int)-got) : "short");
		for (i = 0; i < TR_CHUNK; i++)
			if (in[i] != tr_byte(tx_off + i, 0))
				return tr_fail("host read a wrong byte at %llu",
					       (unsigned long long)(tx_off + i));
		/* Host to guest. */
		for (i = 0; i < TR_CHUNK; i++)
			out[i] = tr_byte(tx_off + i, 1);
		r = host_send(&d, c.hfd, out, TR_CHUNK);
		if (r)
			return tr_fail("host send at %llu: %s", (unsigned long long)tx_off,
				       strerror(-r));
		want = tx_off + TR_CHUNK;
		while (tr_rx_off < want && !tr_rx_bad && !tr_peer_reset) {
			pump(&d);
			if (now() - t0 > timeout_s)
				break;
			nap();
		}
		if (tr_rx_bad || tr_peer_reset || tr_rx_off != want)
			return tr_fail("guest received %llu of %llu bytes%s%s",
				       (unsigned long long)tr_rx_off, (unsigned long long)want,
				       tr_rx_bad ? ", a wrong byte or length" : "",
				       tr_peer_reset ? ", then a RST" : "");
		tx_off = want;
		t0 = now();
		if (!said && tx_off >= bytes) {
			printf("vhostile traffic: %llu bytes each way ok\n",
			       (unsigned long long)tx_off);
			said = 1;
			if (!forever)
				break;
		}
	}
	/* once: an orderly end. */
	{
		struct virtio_vsock_hdr h = mkhdr(&d, VIRTIO_VSOCK_OP_SHUTDOWN, c.gport, c.hport, 0);
		ssize_t got;

		h.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
		h.fwd_cnt = (uint32_t)tr_rx_off;
		if (tx_pkt(&d, &h, NULL, 0) < 0)
			return tr_fail("SHUTDOWN not sent");
		got = host_recv(&d, c.hfd, in, 1);
		if (got != 0)
			return tr_fail("host read %zd instead of end of file after SHUTDOWN", got);
	}
	rx_sink = NULL;
	conn_close(&d, &c);
	if (barrier(&d))
		return tr_fail("no RST for a REQUEST to an unbound port after the close");
	dev_close(&d);
	close(listener);
	printf("vhostile traffic: closed cleanly\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "traffic"))
		return traffic_main(argc, argv);
	backend = argc > 1 ? argv[1] : "?";
	if (argc > 2)
		listen_port = strtoul(argv[2], NULL, 0);
	if (getenv("VHOSTILE_TIMEOUT"))
		timeout_s = strtod(getenv("VHOSTILE_TIMEOUT"), NULL);
	listener = host_listen(listen_port, 64);
	if (listener < 0) {
		printf("vhostile: host listener on port %u: %s\n", listen_port, strerror(errno));
		printf("vhostile %s: 0 passed, 1 failed\n", backend);
		return 1;
	}
	run_case("rig", case_rig);
	run_case("features", case_features);
	run_case("set_guest_cid", case_set_cid);
	run_case("spoofed_src_cid", case_spoof_src);
	run_case("dst_cid_not_host", case_dst_not_host);
	run_case("hdr_len_gt_chain", case_len_gt_chain);
	run_case("hdr_len_lt_payload", case_len_lt_payload);
	run_case("chain_shorter_than_header", case_short_chain);
	run_case("header_split", case_split_header);
	run_case("tx_write_only", case_tx_write_only);
	run_case("unknown_op", case_unknown_op);
	run_case("unknown_type", case_unknown_type);
	run_case("credit_overrun", case_credit_overrun);
	run_case("flood_request", case_flood_request);
	run_case("flood_request_listener", case_flood_listener);
	run_case("flood_rst", case_flood_rst);
	run_case("zero_length_rw", case_zero_rw);
	run_case("pkt_64k_plus_1", case_64k_plus_1);
	run_case("rx_small_buffers", case_rx_small);
	run_case("close_in_flight", case_close_in_flight);
	run_case("small_ring", case_small_ring);
	run_case("reply_throttle", case_reply_throttle);
	run_case("bad_ring", case_bad_ring);
	run_case("final_rig", case_rig);
	close(listener);
	printf("vhostile %s: %d passed, %d failed\n", backend, passed, failed);
	return failed ? 1 : 0;
}
