/*
 * bench.c - speed, memory and allocation benchmark for one knowledge base.
 *
 *   bench --kb KB.json --queries FILE [--name NAME] [--json OUT]
 *         [--min-samples N] [--seconds S] [--threads T] [--alloc-replies N]
 *
 * FILE holds one query a line; on a line with a tab (label<TAB>text, the
 * data sets' TSV format) the text after the first tab is the query. Empty
 * queries are skipped.
 *
 * What it measures (all through the public API, include/csbot.h):
 *   load_ms      wall time of csbot_kb_load_file() (CLOCK_MONOTONIC)
 *   rss_mb       resident set (/proc/self/statm) after the load minus before,
 *                in MiB
 *   p50_us/p99_us  latency of csbot_session_reply() in one thread, one fresh
 *                conversation per query (csbot_session_reset() between
 *                queries, outside the timed region), after one warm-up pass;
 *                the query list is replayed until at least --min-samples
 *                (default 4000) replies are timed, and at least 3 times
 *                (the report also gives p50/p99 of each query's best time
 *                over the passes, which a busy machine barely disturbs)
 *   qps_1t/qps_2t  replies per second with 1 and 2 threads, all reporting to
 *                  one shared csbot_stats (each thread its
 *                own session on the shared KB, replaying the query list with
 *                a reset between queries for --seconds, default 1.0)
 *   allocs_per_reply  calls to the counting allocator (csbot_kb_options.alloc)
 *                that allocate or grow a block (nsize > 0) during a reply,
 *                averaged over at least --alloc-replies (default 2000) warm
 *                replies (cycling over the query list)
 *
 * Prints a human-readable report on stderr and one tab-separated RESULT line
 * on stdout: the fields of the JSON object in order, then the CPUs the 1- and
 * 2-thread runs actually got (thread CPU time / wall time, summed over the
 * threads: below the thread count when the machine is busy), then the
 * best-of-passes p50 and p99. With --json it writes the JSON object to OUT.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "csbot.h"

/* ---- counting allocator ------------------------------------------------ */

/* Per-thread counters: sessions on different threads never contend on them. */
static _Thread_local unsigned long tl_allocs; /* nsize > 0 */
static _Thread_local unsigned long tl_frees;  /* nsize == 0 */

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        tl_frees++;
        free(ptr);
        return NULL;
    }
    tl_allocs++;
    return realloc(ptr, nsize);
}

/* ---- helpers ----------------------------------------------------------- */

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double thread_cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static long rss_pages(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = -1;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res;
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

typedef struct {
    char **text;
    size_t *len;
    size_t n, cap;
} qlist;

static void read_queries(const char *path, qlist *q) {
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    memset(q, 0, sizeof *q);
    while ((got = getline(&line, &cap, f)) != -1) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        char *t = strchr(line, '\t');
        t = t ? t + 1 : line;
        size_t n = strlen(t);
        if (n == 0)
            continue;
        if (q->n == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 1024;
            q->text = realloc(q->text, q->cap * sizeof *q->text);
            q->len = realloc(q->len, q->cap * sizeof *q->len);
            if (!q->text || !q->len)
                die("%s", "out of memory");
        }
        q->text[q->n] = malloc(n + 1);
        if (!q->text[q->n])
            die("%s", "out of memory");
        memcpy(q->text[q->n], t, n + 1);
        q->len[q->n] = n;
        q->n++;
    }
    free(line);
    fclose(f);
    if (q->n == 0)
        die("%s has no queries", path);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *v, size_t n, double p) {
    if (n == 0)
        return NAN;
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

/* ---- throughput threads ------------------------------------------------ */

typedef struct {
    const csbot_kb *kb;
    const qlist *q;
    csbot_stats *stats; /* shared by all threads, as in a chat backend */
    size_t start;
    double seconds;
    pthread_barrier_t *barrier;
    unsigned long replies;
    unsigned long failures;
    double elapsed_us;
    double cpu_us; /* CPU time the thread actually got while timed */
    int rc;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    csbot_session *s = NULL;
    const csbot_reply *r;
    csbot_session_options so = CSBOT_SESSION_OPTIONS_INIT;
    so.stats = w->stats;
    w->rc = csbot_session_new(&s, w->kb, &so);
    /* Warm the session's buffers before the clock starts. */
    if (w->rc == CSBOT_OK)
        for (size_t i = 0; i < w->q->n; i++) {
            csbot_session_reset(s);
            (void)csbot_session_reply(s, w->q->text[i], w->q->len[i], &r);
        }
    pthread_barrier_wait(w->barrier);
    if (w->rc != CSBOT_OK)
        return NULL;
    size_t i = w->start, n = w->q->n;
    unsigned long count = 0, fails = 0;
    double c0 = thread_cpu_us();
    double t0 = now_us(), t1 = t0, limit = t0 + w->seconds * 1e6;
    for (;;) {
        for (int k = 0; k < 16; k++) {
            csbot_session_reset(s);
            if (csbot_session_reply(s, w->q->text[i], w->q->len[i], &r) !=
                CSBOT_OK)
                fails++;
            count++;
            if (++i == n)
                i = 0;
        }
        t1 = now_us();
        if (t1 >= limit)
            break;
    }
    w->replies = count;
    w->failures = fails;
    w->elapsed_us = t1 - t0;
    w->cpu_us = thread_cpu_us() - c0;
    csbot_session_free(s);
    return NULL;
}

/* Replies per second of nthreads threads together; *cpus receives the CPUs
 * they actually got (sum of thread CPU time / wall time): on a busy machine
 * it is below nthreads and the figure measures the machine, not the
 * library. */
static double throughput(const csbot_kb *kb, const qlist *q, int nthreads,
                         double seconds, double *cpus) {
    pthread_t tid[64];
    worker w[64];
    pthread_barrier_t bar;
    if (nthreads < 1 || nthreads > 64)
        return NAN;
    /* The threads report to one statistics object, as a backend's sessions
     * would: the figures then include what keeping statistics costs, and
     * the 2-thread scaling shows whether replies write shared memory. */
    csbot_stats *stats = NULL;
    if (csbot_stats_new(&stats, 0, 0) != CSBOT_OK)
        die("%s", "csbot_stats_new failed");
    pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
    for (int t = 0; t < nthreads; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].kb = kb;
        w[t].q = q;
        w[t].stats = stats;
        w[t].start = (size_t)t * q->n / (size_t)nthreads;
        w[t].seconds = seconds;
        w[t].barrier = &bar;
        if (pthread_create(&tid[t], NULL, worker_main, &w[t]) != 0)
            die("%s", "pthread_create failed");
    }
    double qps = 0;
    *cpus = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(tid[t], NULL);
        if (w[t].rc != CSBOT_OK)
            die("session: %s", csbot_strerror(w[t].rc));
        if (w[t].elapsed_us > 0) {
            qps += (double)w[t].replies / (w[t].elapsed_us / 1e6);
            *cpus += w[t].cpu_us / w[t].elapsed_us;
        }
    }
    pthread_barrier_destroy(&bar);
    csbot_stats_free(stats);
    return qps;
}

/* ---- main -------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: bench --kb KB.json --queries FILE [--name NAME] "
            "[--json OUT]\n"
            "             [--min-samples N] [--seconds S] [--threads T] "
            "[--alloc-replies N]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *kb_path = NULL, *q_path = NULL, *name = NULL, *json_out = NULL;
    size_t min_samples = 4000, alloc_replies = 2000;
    double seconds = 1.0;
    int max_threads = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--kb") == 0)
            kb_path = v;
        else if (strcmp(a, "--queries") == 0)
            q_path = v;
        else if (strcmp(a, "--name") == 0)
            name = v;
        else if (strcmp(a, "--json") == 0)
            json_out = v;
        else if (strcmp(a, "--min-samples") == 0)
            min_samples = strtoul(v, NULL, 10);
        else if (strcmp(a, "--alloc-replies") == 0)
            alloc_replies = strtoul(v, NULL, 10);
        else if (strcmp(a, "--seconds") == 0)
            seconds = strtod(v, NULL);
        else if (strcmp(a, "--threads") == 0)
            max_threads = atoi(v);
        else
            usage();
    }
    if (!kb_path || !q_path)
        usage();
    if (!name)
        name = kb_path;

    qlist q;
    read_queries(q_path, &q);

    /* ---- load ---- */
    long page = sysconf(_SC_PAGESIZE);
    long rss0 = rss_pages();
    csbot_kb_options opts = CSBOT_KB_OPTIONS_INIT;
    opts.alloc = count_alloc;
    csbot_error err = CSBOT_ERROR_INIT;
    csbot_kb *kb = NULL;
    unsigned long a0 = tl_allocs;
    double t0 = now_us();
    int rc = csbot_kb_load_file(&kb, kb_path, &opts, &err);
    double load_ms = (now_us() - t0) / 1e3;
    unsigned long load_allocs = tl_allocs - a0;
    if (rc != CSBOT_OK) {
        char buf[1024];
        csbot_error_format(&err, buf, sizeof buf);
        die("load failed: %s", buf);
    }
    long rss1 = rss_pages();
    double rss_mb = (double)(rss1 - rss0) * (double)page / 1048576.0;
    size_t entries = csbot_kb_intent_count(kb);

    /* ---- latency, one thread ---- */
    csbot_session *s = NULL;
    rc = csbot_session_new(&s, kb, NULL);
    if (rc != CSBOT_OK)
        die("session: %s", csbot_strerror(rc));
    const csbot_reply *r;
    unsigned long failures = 0;
    for (size_t i = 0; i < q.n; i++) { /* warm-up pass */
        csbot_session_reset(s);
        if (csbot_session_reply(s, q.text[i], q.len[i], &r) != CSBOT_OK)
            failures++;
    }
    size_t passes = (min_samples + q.n - 1) / q.n;
    if (passes < 3)
        passes = 3; /* for the best-of-passes figure below */
    size_t ns = passes * q.n, k = 0;
    double *lat = malloc(ns * sizeof *lat);
    double *best = malloc(q.n * sizeof *best);
    if (!lat || !best)
        die("%s", "out of memory");
    double total_us = 0;
    for (size_t p = 0; p < passes; p++)
        for (size_t i = 0; i < q.n; i++) {
            csbot_session_reset(s);
            double a = now_us();
            (void)csbot_session_reply(s, q.text[i], q.len[i], &r);
            double b = now_us();
            lat[k++] = b - a;
            total_us += b - a;
            if (p == 0 || b - a < best[i])
                best[i] = b - a;
        }
    qsort(lat, ns, sizeof *lat, cmp_double);
    double p50 = percentile(lat, ns, 50), p99 = percentile(lat, ns, 99);
    double p90 = percentile(lat, ns, 90), pmax = lat[ns - 1];
    double mean = total_us / (double)ns;
    /* Each query's fastest time over the passes: a reply preempted by another
     * process in one pass is not in the others, so these percentiles show the
     * library's own cost on a busy machine. */
    qsort(best, q.n, sizeof *best, cmp_double);
    double b50 = percentile(best, q.n, 50), b99 = percentile(best, q.n, 99);

    /* ---- allocations per warm reply ---- */
    size_t nalloc = alloc_replies > 0 ? alloc_replies : q.n;
    unsigned long allocs = 0, frees = 0, reset_allocs = 0;
    for (size_t j = 0; j < nalloc; j++) {
        size_t i = j % q.n;
        unsigned long c0 = tl_allocs;
        csbot_session_reset(s);
        unsigned long c1 = tl_allocs, f1 = tl_frees;
        (void)csbot_session_reply(s, q.text[i], q.len[i], &r);
        reset_allocs += c1 - c0;
        allocs += tl_allocs - c1;
        frees += tl_frees - f1;
    }
    double allocs_per_reply = (double)allocs / (double)nalloc;
    csbot_session_free(s);

    /* ---- throughput ---- */
    double cpus1 = NAN, cpus2 = NAN;
    double qps1 = throughput(kb, &q, 1, seconds, &cpus1);
    double qps2 = max_threads >= 2
                      ? throughput(kb, &q, max_threads, seconds, &cpus2)
                      : NAN;

    fprintf(stderr,
            "%s: %zu intents, %zu examples, %zu queries (%lu failed replies)\n"
            "  load %.1f ms (%lu allocations), RSS +%.1f MiB\n"
            "  latency over %zu replies (%zu passes): p50 %.2f us, p90 %.2f "
            "us, p99 %.2f us, max %.1f us, mean %.2f us\n"
            "  best of %zu passes per query: p50 %.2f us, p99 %.2f us\n"
            "  throughput: 1 thread %.0f q/s on %.2f CPUs, %d threads %.0f q/s "
            "on %.2f CPUs (x%.2f)\n"
            "  allocations: %.3f per reply, %.3f frees per reply, %.3f per "
            "reset (over %zu replies)\n",
            name, entries, csbot_kb_example_count(kb), q.n, failures, load_ms,
            load_allocs, rss_mb, ns, passes, p50, p90, p99, pmax, mean, passes,
            b50, b99, qps1,
            cpus1, max_threads, qps2, cpus2, qps2 / qps1, allocs_per_reply,
            (double)frees / (double)nalloc,
            (double)reset_allocs / (double)nalloc, nalloc);

    printf("RESULT\t%s\t%zu\t%.1f\t%.1f\t%.2f\t%.2f\t%.0f\t%.0f\t%.3f\t%.2f"
           "\t%.2f\t%.2f\t%.2f\n",
           name, entries, load_ms, rss_mb, p50, p99, qps1, qps2,
           allocs_per_reply, cpus1, cpus2, b50, b99);

    if (json_out) {
        FILE *f = fopen(json_out, "w");
        if (!f)
            die("cannot write %s", json_out);
        /* name is a file name or a simple label: escape just in case */
        fputs("{\"kb\": \"", f);
        for (const char *c = name; *c; c++) {
            if (*c == '"' || *c == '\\')
                fputc('\\', f);
            if ((unsigned char)*c >= 0x20)
                fputc(*c, f);
        }
        fprintf(f,
                "\", \"entries\": %zu, \"load_ms\": %.1f, \"rss_mb\": %.1f, "
                "\"p50_us\": %.2f, \"p99_us\": %.2f, \"qps_1t\": %.0f, "
                "\"qps_2t\": %.0f, \"allocs_per_reply\": %.3f}\n",
                entries, load_ms, rss_mb, p50, p99, qps1,
                isnan(qps2) ? 0.0 : qps2, allocs_per_reply);
        fclose(f);
    }

    csbot_kb_free(kb);
    for (size_t i = 0; i < q.n; i++)
        free(q.text[i]);
    free(q.text);
    free(q.len);
    free(lat);
    free(best);
    return 0;
}
