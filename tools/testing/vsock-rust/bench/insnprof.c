// SPDX-License-Identifier: GPL-2.0
/*
 * insnprof: a QEMU TCG plugin that counts the instructions a guest executes
 * per translation block, for exact instruction profiles of a benchmark
 * (bench/insnprof.py names the blocks and subtracts snapshots).
 *
 *   qemu-system-x86_64 ... -plugin insnprof.so,dir=DIR
 *
 * Every block gets an inline per-vCPU counter of its executions.  A thread
 * watches DIR: for each file snap-NAME that appears there it writes
 * NAME.prof (one line per block executed so far: address, instructions in
 * the block, executions over all vCPUs) and removes snap-NAME.  At exit it
 * writes exit.prof.  Snapshots are cumulative; a profile of a run is the
 * difference of the snapshots before and after it.  Under -icount the
 * guest's time is its instruction count, so the profile is the time too.
 *
 * Only the parts of QEMU's plugin API (include/qemu/qemu-plugin.h, QEMU
 * 9.0 and later) that this plugin calls are declared here.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_scoreboard;
typedef struct {
	struct qemu_plugin_scoreboard *score;
	size_t offset;
} qemu_plugin_u64;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64, QEMU_PLUGIN_INLINE_STORE_U64 };
typedef struct {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
		void (*cb)(qemu_plugin_id_t id, void *userdata), void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_scoreboard *qemu_plugin_scoreboard_new(size_t element_size);
uint64_t qemu_plugin_u64_sum(qemu_plugin_u64 entry);
void qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(struct qemu_plugin_tb *tb,
		enum qemu_plugin_op op, qemu_plugin_u64 entry, uint64_t imm);

/* The oldest API version with scoreboards (QEMU 9.0). */
EXPORT int qemu_plugin_version = 2;

/* One translated block: its start and length, and its execution count. */
struct block {
	uint64_t vaddr;
	uint64_t n_insns;
	qemu_plugin_u64 count;
	struct block *next;
};

#define NBUCKETS (1u << 16)
static struct block *buckets[NBUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char dir[1024];

static unsigned int bucket_of(uint64_t vaddr, uint64_t n)
{
	uint64_t h = (vaddr ^ (n << 48)) * 0x9e3779b97f4a7c15ull;

	return (unsigned int)(h >> 48) & (NBUCKETS - 1);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	uint64_t n = qemu_plugin_tb_n_insns(tb);
	unsigned int h = bucket_of(vaddr, n);
	struct block *b;

	(void)id;
	pthread_mutex_lock(&lock);
	for (b = buckets[h]; b; b = b->next)
		if (b->vaddr == vaddr && b->n_insns == n)
			break;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			pthread_mutex_unlock(&lock);
			return;
		}
		b->vaddr = vaddr;
		b->n_insns = n;
		b->count.score = qemu_plugin_scoreboard_new(sizeof(uint64_t));
		b->count.offset = 0;
		b->next = buckets[h];
		buckets[h] = b;
	}
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							  b->count, 1);
}

/* Writes NAME.prof in dir (through a temporary name, then renamed). */
static void snapshot(const char *name)
{
	char tmp[1400], path[1400];
	unsigned int i;
	struct block *b;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.%s.prof", dir, name);
	snprintf(path, sizeof(path), "%s/%s.prof", dir, name);
	f = fopen(tmp, "w");
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	for (i = 0; i < NBUCKETS; i++)
		for (b = buckets[i]; b; b = b->next) {
			uint64_t c = qemu_plugin_u64_sum(b->count);

			if (c)
				fprintf(f, "%llx %llu %llu\n", (unsigned long long)b->vaddr,
					(unsigned long long)b->n_insns, (unsigned long long)c);
		}
	pthread_mutex_unlock(&lock);
	fclose(f);
	rename(tmp, path);
}

static void *watch(void *arg)
{
	(void)arg;
	for (;;) {
		DIR *d = opendir(dir);
		struct dirent *e;

		if (d) {
			while ((e = readdir(d))) {
				char p[1400];

				if (strncmp(e->d_name, "snap-", 5))
					continue;
				snapshot(e->d_name + 5);
				snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
				unlink(p);
			}
			closedir(d);
		}
		usleep(20000);
	}
	return NULL;
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	(void)id;
	(void)userdata;
	snapshot("exit");
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv)
{
	pthread_t t;
	int i;

	(void)info;
	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "dir=", 4))
			snprintf(dir, sizeof(dir), "%s", argv[i] + 4);
	if (!dir[0]) {
		fprintf(stderr, "insnprof: dir=DIR is required\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	if (pthread_create(&t, NULL, watch, NULL))
		return -1;
	pthread_detach(t);
	return 0;
}
