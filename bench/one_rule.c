/* The floor for changing ONE rule of a legacy iptables table (IPv4 "filter").
 *
 * Legacy xtables has no partial update: whoever adds or removes one rule must
 * read the whole table, change the blob, hand the whole table back, and put the
 * counters back. This program does exactly that and nothing else (no libiptc,
 * no parsing, no chain cache, no copy of the table beyond the kernel's), so its
 * time is the least any program can spend on one rule:
 *  1. IPT_SO_GET_INFO + IPT_SO_GET_ENTRIES: the only way to see the table: its
 *     size, hooks, entry count (the kernel's conflict check) and every entry.
 *     The entries are read straight into the buffer that SET_REPLACE will send.
 *  2. Splice in the blob: make room for (or close the gap of) one entry at the
 *     end of INPUT, move hook_entry/underflow past that point, and move every
 *     standard-target verdict that is an offset (a jump, or the "fall through"
 *     of a rule with no target, whose verdict is its own offset + size).
 *  3. IPT_SO_SET_REPLACE: the only write; num_counters = the entry count read
 *     in 1, and the kernel hands back the old table's counters as of the swap.
 *  4. IPT_SO_SET_ADD_COUNTERS: the new table starts at zero; give every kept
 *     entry (rules, policies) its old counters at its new index, 0 to the new one.
 * The rule is `-p udp -m udp --dport 9 -j ACCEPT`, built by hand as iptables
 * builds it. No xtables lock is taken (run it alone, in a scratch namespace).
 *
 * usage: one_rule append|delete RUNS -> prints the median milliseconds.
 * append times an append (then deletes it, untimed); delete appends (untimed),
 * then times the delete of INPUT's last rule. The table ends as it began. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter/xt_tcpudp.h>

#define TABLE "filter"
#define MATCH_SIZE XT_ALIGN(sizeof(struct xt_entry_match) + sizeof(struct xt_udp))
#define TARGET_SIZE XT_ALIGN(sizeof(struct xt_standard_target))
#define RULE_SIZE (XT_ALIGN(sizeof(struct ipt_entry)) + MATCH_SIZE + TARGET_SIZE)
#define HEAD offsetof(struct ipt_replace, entries)

static int fd;
static char *buf;                /* ipt_replace head, then the entries */
static size_t cap;
static struct xt_counters_info *cnt; /* old counters land here, then shift */
static size_t ccap;
static int **later;              /* delete: verdicts to move once d is known */
static size_t lcap;
static union { struct ipt_entry e; char bytes[RULE_SIZE]; } rule;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static void die(const char *what) { perror(what); exit(1); }

/* Grown, never shrunk; new memory zeroed once (the kernel writes every byte
 * of an entry but the padding after match/target names, which it never reads). */
static void *grow(void *p, size_t *have, size_t need) {
  if (need <= *have) return p;
  need += need / 4;
  if (!(p = realloc(p, need))) die("realloc");
  memset((char *)p + *have, 0, need - *have);
  *have = need;
  return p;
}

/* -p udp -m udp --dport 9 -j ACCEPT: every field zero (any address, any
 * interface, no flags) but these; sizes XT_ALIGN'ed as iptables makes them. */
static void build_rule(void) {
  struct xt_entry_match *m = (void *)(rule.bytes + XT_ALIGN(sizeof(struct ipt_entry)));
  struct xt_udp *udp = (void *)m->data;
  struct xt_standard_target *t = (void *)((char *)m + MATCH_SIZE);
  memset(&rule, 0, sizeof(rule));
  rule.e.ip.proto = IPPROTO_UDP;
  rule.e.target_offset = XT_ALIGN(sizeof(struct ipt_entry)) + MATCH_SIZE;
  rule.e.next_offset = RULE_SIZE;
  m->u.user.match_size = MATCH_SIZE;
  strcpy(m->u.user.name, "udp"); /* revision 0 */
  udp->spts[0] = 0, udp->spts[1] = 0xffff;
  udp->dpts[0] = 9, udp->dpts[1] = 9;
  t->target.u.user.target_size = TARGET_SIZE; /* name "" = the standard target */
  t->verdict = -NF_ACCEPT - 1;
}

/* One read, splice, replace, counters: add appends the rule at the end of
 * INPUT, else INPUT's last rule is removed. */
static void change(int add) {
  struct ipt_getinfo info;
  socklen_t len = sizeof(info);
  memset(&info, 0, sizeof(info));
  strcpy(info.name, TABLE);
  if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_INFO, &info, &len)) die("IPT_SO_GET_INFO");

  /* 1. Read the entries where SET_REPLACE wants them (after its head), with
   * room for one more; the GET_ENTRIES head goes just before them. */
  buf = grow(buf, &cap, HEAD + info.size + RULE_SIZE);
  char *ents = buf + HEAD;
  struct ipt_get_entries *g = (void *)(ents - offsetof(struct ipt_get_entries, entrytable));
  strncpy(g->name, TABLE, sizeof(g->name));
  g->size = info.size;
  len = sizeof(*g) + info.size;
  if (getsockopt(fd, IPPROTO_IP, IPT_SO_GET_ENTRIES, g, &len)) die("IPT_SO_GET_ENTRIES");

  /* 2. One walk over every entry, in old offsets, before anything moves. The
   * splice is at the end of INPUT, whose foot (its policy) is at underflow:
   * append puts the rule at the foot's place; delete removes the entry just
   * before the foot. k: the index (among all entries) of the rule added or removed.
   * Standard verdicts >= 0 are offsets: where a jump lands, or for a rule with
   * no target its own offset + size (it falls through). Every such offset past
   * the splice point `at` moves by d; one equal to `at` stays: the fall-through
   * of the entry just before, which must land on the new rule (append) or on
   * the entry after the removed one (delete), or, were one to splice at a user
   * chain's start, a jump to that chain's first rule. A fall-through of an entry
   * that itself moves is past `at` and moves with it, so every fall-through
   * stays "own offset + size". Offsets land on entries only (the kernel checks),
   * so "past at" is "> foot" on append and ">= foot" on delete; but on delete the
   * size, so d, is known only at the foot: verdicts to move seen before it wait
   * in `later`. */
  unsigned foot = info.underflow[NF_INET_LOCAL_IN], past = add ? foot + 1 : foot;
  unsigned at = foot, size = RULE_SIZE, k = 0, prev = 0, off = 0, i = 0;
  int d = RULE_SIZE, found = 0;
  size_t nl = 0;
  for (; off < info.size; off += ((struct ipt_entry *)(ents + off))->next_offset, i++) {
    struct ipt_entry *e = (void *)(ents + off);
    struct xt_standard_target *t = (void *)((char *)e + e->target_offset);
    if (off == foot) {
      found = 1, k = i;
      if (!add) {
        if (foot == info.hook_entry[NF_INET_LOCAL_IN]) { fprintf(stderr, "INPUT has no rule to delete\n"); exit(1); }
        at = prev, size = foot - prev, d = -(int)size, k--;
        while (nl) *later[--nl] += d;
      }
    }
    prev = off;
    if (t->target.u.user.name[0] != '\0' || t->verdict < 0 || (unsigned)t->verdict < past) continue;
    if (add || found) {
      t->verdict += d;
    } else {
      later = grow(later, &lcap, (nl + 1) * sizeof(*later));
      later[nl++] = &t->verdict;
    }
  }
  if (!found) { fprintf(stderr, "INPUT's underflow is not on an entry\n"); exit(1); }
  /* Hooks: a chain's start at `at` stays (INPUT was empty: the new rule is its
   * first); its foot at `at` moves on append (the rule goes before the foot). */
  for (int h = 0; h < NF_INET_NUMHOOKS; h++) {
    if (!(info.valid_hooks & (1u << h))) continue;
    if (info.hook_entry[h] > at) info.hook_entry[h] += d;
    if (info.underflow[h] > at || (add && info.underflow[h] == at)) info.underflow[h] += d;
  }
  /* The bytes: only the tail after INPUT moves (FORWARD, OUTPUT, user chains). */
  if (add) {
    memmove(ents + at + size, ents + at, info.size - at);
    memcpy(ents + at, rule.bytes, size);
  } else {
    memmove(ents + at, ents + at + size, info.size - at - size);
  }

  /* 3. Replace. The old counters go straight into the ADD_COUNTERS buffer. */
  unsigned n = info.num_entries, next_n = add ? n + 1 : n - 1;
  cnt = grow(cnt, &ccap, sizeof(*cnt) + (n + 1) * sizeof(struct xt_counters));
  struct ipt_replace *r = (void *)buf;
  memset(r, 0, HEAD);
  strncpy(r->name, TABLE, sizeof(r->name));
  r->valid_hooks = info.valid_hooks;
  r->num_entries = next_n;
  r->size = info.size + d;
  memcpy(r->hook_entry, info.hook_entry, sizeof(r->hook_entry));
  memcpy(r->underflow, info.underflow, sizeof(r->underflow));
  r->num_counters = n;
  r->counters = cnt->counters;
  if (setsockopt(fd, IPPROTO_IP, IPT_SO_SET_REPLACE, r, HEAD + r->size)) die("IPT_SO_SET_REPLACE");

  /* 4. Old index -> new index: entries before k keep theirs, the rest shift
   * by one; the new rule starts at 0. */
  struct xt_counters *c = cnt->counters;
  if (add) {
    memmove(c + k + 1, c + k, (n - k) * sizeof(*c));
    memset(c + k, 0, sizeof(*c));
  } else {
    memmove(c + k, c + k + 1, (n - k - 1) * sizeof(*c));
  }
  memset(cnt->name, 0, sizeof(cnt->name));
  strcpy(cnt->name, TABLE);
  cnt->num_counters = next_n;
  if (setsockopt(fd, IPPROTO_IP, IPT_SO_SET_ADD_COUNTERS, cnt, sizeof(*cnt) + next_n * sizeof(*c)))
    die("IPT_SO_SET_ADD_COUNTERS");
}

int main(int argc, char **argv) {
  int add = argc > 1 && !strcmp(argv[1], "append");
  int runs = argc > 2 ? atoi(argv[2]) : 10;
  if (argc < 2 || (!add && strcmp(argv[1], "delete")) || runs < 1) {
    fprintf(stderr, "usage: one_rule append|delete RUNS\n");
    return 2;
  }
  double *t = calloc(runs, sizeof(double));
  if ((fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW)) < 0) die("socket");
  build_rule();
  for (int i = 0; i < runs; i++) {
    if (!add) change(1); /* untimed: a rule to delete */
    double t0 = now_ms();
    change(add);
    t[i] = now_ms() - t0;
    if (add) change(0); /* untimed: back to the size it had */
  }
  qsort(t, runs, sizeof(double), cmp);
  printf("%.3f\n", t[runs / 2]);
  return 0;
}
