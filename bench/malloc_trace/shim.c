/* LD_PRELOAD shim for bench/malloc_trace.py: logs malloc / posix_memalign calls of at
 * least MALLOC_TRACE_MIN bytes and the frees of those blocks, while tracing is switched on
 * (malloc_trace_on), to the file named by MALLOC_TRACE_OUT, one line per call:
 *   m <bytes> <address> <faults> <break>     f <bytes> <address> <faults> <break>
 *   # <marker text>
 * where <faults> counts the process's minor page faults since the previous line (the pages
 * the kernels in between touched first) and <break> is the program break after the call
 * (glibc grows and trims its heap there).
 * Heap blocks have addresses near the program break; mmapped ones near the shared
 * libraries (0x7f... on x86-64 Linux). Not thread-safe: trace single-threaded callers
 * (PyTorch allocates an eager op's tensors on the calling thread). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#define SLOTS 65536

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static int (*real_memalign)(void **, size_t, size_t);
static FILE *out;
static int on;
static size_t min_bytes = 256 * 1024;
static void *blocks[SLOTS];
static size_t sizes[SLOTS];
static long faults_seen;

static void resolve(void) {
    if (real_malloc) return;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_memalign = dlsym(RTLD_NEXT, "posix_memalign");
}

static long faults_since_last(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    long delta = usage.ru_minflt - faults_seen;
    faults_seen = usage.ru_minflt;
    return delta;
}

static void record(char kind, void *p, size_t n) {
    on = 0; /* fprintf may allocate */
    long faults = faults_since_last();
    fprintf(out, "%c %zu %p %ld %p\n", kind, n, p, faults, sbrk(0));
    on = 1;
}

static void remember(void *p, size_t n) {
    for (int i = 0; i < SLOTS; i++)
        if (!blocks[i]) { blocks[i] = p; sizes[i] = n; return; }
}

static size_t forget(void *p) {
    for (int i = 0; i < SLOTS; i++)
        if (blocks[i] == p) { blocks[i] = 0; return sizes[i]; }
    return 0;
}

void malloc_trace_on(int enable) {
    if (!out) {
        const char *path = getenv("MALLOC_TRACE_OUT"), *min = getenv("MALLOC_TRACE_MIN");
        out = fopen(path ? path : "/dev/stderr", "w");
        if (min) min_bytes = strtoull(min, 0, 10);
    }
    on = enable && out;
    if (on) faults_since_last();
    if (out) fflush(out);
}

void malloc_trace_mark(const char *text) {
    if (!on) return;
    on = 0;
    fprintf(out, "# %s\n", text);
    on = 1;
}

void *malloc(size_t n) {
    resolve();
    void *p = real_malloc(n);
    if (on && p && n >= min_bytes) { remember(p, n); record('m', p, n); }
    return p;
}

int posix_memalign(void **pp, size_t align, size_t n) {
    resolve();
    int rc = real_memalign(pp, align, n);
    if (on && rc == 0 && n >= min_bytes) { remember(*pp, n); record('m', *pp, n); }
    return rc;
}

void free(void *p) {
    resolve();
    if (on && p) {
        size_t n = forget(p);
        if (n) record('f', p, n);
    }
    real_free(p);
}
