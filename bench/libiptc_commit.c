/* The floor for a bulk commit: libiptc alone appends N prepared entries to
 * INPUT of an empty filter table and commits, timed from iptc_init to the
 * end of iptc_commit. The entries come ready-made from a file (concatenated
 * struct ipt_entry blobs) so no parsing is in the timing.
 * usage: libiptc_commit ENTRIES_FILE RUNS  -> prints the median milliseconds */
#include <errno.h>
#include <libiptc/libiptc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libiptc reads chain names as 32-byte labels. */
static const xt_chainlabel INPUT = "INPUT";

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void flush(void) {
  struct xtc_handle *h = iptc_init("filter");
  if (!h || !iptc_flush_entries(INPUT, h) || !iptc_commit(h)) { fprintf(stderr, "flush: %s\n", iptc_strerror(errno)); exit(1); }
  iptc_free(h);
}

int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "rb");
  int runs = argc > 2 ? atoi(argv[2]) : 5;
  char *buf;
  long size;
  double *t = calloc(runs, sizeof(double));
  if (!f) { perror(argv[1]); return 1; }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc(size);
  if (fread(buf, 1, size, f) != (size_t)size) { perror("read"); return 1; }
  for (int i = 0; i < runs; i++) {
    flush();
    double t0 = now_ms();
    struct xtc_handle *h = iptc_init("filter");
    for (long off = 0; off < size;) {
      struct ipt_entry *e = (struct ipt_entry *)(buf + off);
      if (!iptc_append_entry(INPUT, e, h)) { fprintf(stderr, "append: %s\n", iptc_strerror(errno)); return 1; }
      off += e->next_offset;
    }
    if (!iptc_commit(h)) { fprintf(stderr, "commit: %s\n", iptc_strerror(errno)); return 1; }
    t[i] = now_ms() - t0;
    iptc_free(h);
  }
  flush();
  qsort(t, runs, sizeof(double), cmp);
  printf("%.3f\n", t[runs / 2]);
  return 0;
}
