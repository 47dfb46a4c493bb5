/* The floor for reading counters: only the raw kernel read of one table
 * (IPT_SO_GET_INFO + IPT_SO_GET_ENTRIES), no libiptc, no parsing.
 * usage: raw_read TABLE RUNS  -> prints the median milliseconds */
#include <libiptc/libiptc.h> /* the kernel structs, nothing of libiptc is called */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  const char *table = argc > 1 ? argv[1] : "filter";
  int runs = argc > 2 ? atoi(argv[2]) : 10;
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  double *t = calloc(runs, sizeof(double));
  struct ipt_get_entries *e = NULL;
  size_t cap = 0;
  if (fd < 0) { perror("socket"); return 1; }
  for (int i = 0; i < runs; i++) {
    struct ipt_getinfo info;
    socklen_t len = sizeof(info);
    double t0 = now_ms();
    memset(&info, 0, sizeof(info));
    strcpy(info.name, table);
    if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, &info, &len)) { perror("GET_INFO"); return 1; }
    if (cap < sizeof(*e) + info.size) { cap = sizeof(*e) + info.size; e = realloc(e, cap); }
    strcpy(e->name, table);
    e->size = info.size;
    len = sizeof(*e) + info.size;
    if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_ENTRIES, e, &len)) { perror("GET_ENTRIES"); return 1; }
    t[i] = now_ms() - t0;
  }
  qsort(t, runs, sizeof(double), cmp);
  printf("%.3f\n", t[runs / 2]);
  return 0;
}
