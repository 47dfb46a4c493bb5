/*
 * The printer: what iptables-save prints for an entry's matches and target,
 * from each extension's own save() (see xt_glue.h). Identical matches and
 * targets are printed once per batch: a table of thousands of rules repeats
 * a handful of `-m conntrack --ctstate ...` a thousand times. Call with the
 * process-wide lock held (xtables.h).
 */
#include "xt/xt_internal.h"

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- which extension prints an entry's part ------------------------------ */

/* Looked up once per (family, kind, name, revision). */
struct ext_cache {
  struct ext_cache *next;
  int nfproto, is_target;
  unsigned char revision;
  char name[XT_EXTENSION_MAXNAMELEN];
  void *found;  /* struct xtables_match / xtables_target by name */
  void *exact;  /* the one for this revision, or NULL */
};
static struct ext_cache *ext_cache;

static struct ext_cache *cached(int is_target, const char *name, unsigned char rev) {
  struct ext_cache *c;
  int nfproto = afinfo->family;
  for (c = ext_cache; c; c = c->next)
    if (c->nfproto == nfproto && c->is_target == is_target && c->revision == rev && strcmp(c->name, name) == 0)
      return c;
  c = calloc(1, sizeof(*c));
  if (!c) xtables_error(OTHER_PROBLEM, "out of memory");
  c->nfproto = nfproto;
  c->is_target = is_target;
  c->revision = rev;
  snprintf(c->name, sizeof(c->name), "%s", name);
  if (is_target) {
    struct xtables_target *t = xtg_find_target(name);
    c->found = t;
    c->exact = t ? xtables_find_target_revision(name, XTF_TRY_LOAD, t, rev) : NULL;
  } else {
    struct xtables_match *m = xtables_find_match(name, XTF_TRY_LOAD, NULL);
    c->found = m;
    c->exact = m ? xtables_find_match_revision(name, XTF_TRY_LOAD, m, rev) : NULL;
  }
  c->next = ext_cache;
  ext_cache = c;
  return c;
}

/* ---- one capture stream for a batch, and what it printed ----------------- */

static struct {
  FILE *ms, *saved;
  char *text;
  size_t len;
} cap;

/*
 * Printed parts, by the bytes that decide them: the kind, the part's bytes
 * (size, name, revision, data) and the entry's protocol and its inversion,
 * the only fields of the address header any save() or alias() of iptables
 * 1.8.9 reads (multiport). Kept for one batch.
 */
struct memo {
  struct memo *next;
  uint64_t hash;
  size_t keylen, textlen;
  unsigned char *key;
  char *text;
};
static struct {
  struct memo **buckets;
  size_t nbuckets, count;
} memo;

static uint64_t hash_bytes(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL ^ n, w;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

/*
 * Whether printing an extension is worth remembering: a part that differs
 * in every rule (a comment, a port) never repeats, and copying it into the
 * memo costs more than printing it. After 64 prints of one (kind, name) in a
 * batch, one that repeated less than one time in eight is printed directly
 * for the rest of the batch.
 */
struct worth {
  struct worth *next;
  int kind;
  char name[XT_EXTENSION_MAXNAMELEN];
  unsigned seen, hits;
};
static struct worth *worth;

static struct worth *worth_of(int kind, const char *name) {
  struct worth *w;
  for (w = worth; w; w = w->next)
    if (w->kind == kind && strcmp(w->name, name) == 0) return w;
  w = calloc(1, sizeof(*w));
  if (!w) return NULL;
  w->kind = kind;
  snprintf(w->name, sizeof(w->name), "%s", name);
  w->next = worth;
  worth = w;
  return w;
}

static void worth_clear(void) {
  while (worth) {
    struct worth *next = worth->next;
    free(worth);
    worth = next;
  }
}

static void memo_clear(void) {
  size_t i;
  for (i = 0; i < memo.nbuckets; i++) {
    struct memo *m = memo.buckets[i], *next;
    for (; m; m = next) {
      next = m->next;
      free(m->key);
      free(m->text);
      free(m);
    }
  }
  free(memo.buckets);
  memo.buckets = NULL;
  memo.nbuckets = memo.count = 0;
}

static struct memo *memo_find(const unsigned char *key, size_t n, uint64_t h) {
  struct memo *m;
  if (!memo.nbuckets) return NULL;
  for (m = memo.buckets[h & (memo.nbuckets - 1)]; m; m = m->next)
    if (m->hash == h && m->keylen == n && memcmp(m->key, key, n) == 0) return m;
  return NULL;
}

static void memo_add(const unsigned char *key, size_t n, uint64_t h, const char *text, size_t textlen) {
  struct memo *m;
  if (memo.count >= memo.nbuckets) {
    size_t nb = memo.nbuckets ? 2 * memo.nbuckets : 256, i;
    struct memo **b = calloc(nb, sizeof(*b));
    if (!b) return;
    for (i = 0; i < memo.nbuckets; i++) {
      struct memo *x = memo.buckets[i], *next;
      for (; x; x = next) {
        next = x->next;
        x->next = b[x->hash & (nb - 1)];
        b[x->hash & (nb - 1)] = x;
      }
    }
    free(memo.buckets);
    memo.buckets = b;
    memo.nbuckets = nb;
  }
  m = calloc(1, sizeof(*m));
  if (!m) return;
  m->key = malloc(n);
  m->text = malloc(textlen ? textlen : 1);
  if (!m->key || !m->text) {
    free(m->key);
    free(m->text);
    free(m);
    return;
  }
  memcpy(m->key, key, n);
  memcpy(m->text, text, textlen);
  m->keylen = n;
  m->textlen = textlen;
  m->hash = h;
  m->next = memo.buckets[h & (memo.nbuckets - 1)];
  memo.buckets[h & (memo.nbuckets - 1)] = m;
  memo.count++;
}

/* The key: kind, protocol, inversions, then the part's bytes. */
static size_t memo_key(unsigned char *key, size_t cap_, int kind, const void *entry, int nfproto,
                       const void *part, size_t size) {
  const unsigned char *e = entry;
  size_t pa = nfproto == NFPROTO_IPV4 ? offsetof(struct ipt_entry, ip.proto) : offsetof(struct ip6t_entry, ipv6.proto);
  size_t ia = nfproto == NFPROTO_IPV4 ? offsetof(struct ipt_entry, ip.invflags) : offsetof(struct ip6t_entry, ipv6.invflags);
  if (size + 4 > cap_) return 0;
  key[0] = (unsigned char)kind;
  key[1] = e[pa];
  key[2] = e[pa + 1];
  key[3] = e[ia];
  memcpy(key + 4, part, size);
  return size + 4;
}

/* Runs print(), which writes a part into the stream, once per distinct key. */
static void memoised(int kind, const void *entry, int nfproto, const void *part, size_t size,
                     void (*print)(const void *part, const void *entry, const char *arg), const char *arg) {
  static unsigned char key[65536 + 8];
  /* A match and a target start alike: size, name, revision. */
  struct worth *w = worth_of(kind, ((const struct xt_entry_match *)part)->u.user.name);
  size_t n;
  uint64_t h;
  struct memo *m;
  long start;
  if (w && w->seen >= 64 && w->hits * 8 < w->seen) {
    print(part, entry, arg);
    return;
  }
  n = memo_key(key, sizeof(key), kind, entry, nfproto, part, size);
  h = n ? hash_bytes(key, n) : 0;
  m = n ? memo_find(key, n, h) : NULL;
  if (w) {
    w->seen++;
    if (m) w->hits++;
  }
  if (m) {
    fwrite(m->text, 1, m->textlen, stdout);
    return;
  }
  start = ftell(stdout);
  print(part, entry, arg);
  if (!n || start < 0) return;
  fflush(stdout);
  memo_add(key, n, h, cap.text + start, cap.len - (size_t)start);
}

/* ---- printing ------------------------------------------------------------ */

const char *xtg_proto_name(unsigned int proto) {
  const struct xtables_pprot *p;
  struct protoent *pent;
  for (p = xtables_chain_protos; p->name; p++)
    if (p->num == proto) return p->name;
  pent = proto ? getprotobynumber((int)proto) : NULL;
  return pent ? pent->p_name : NULL;
}

/* What iptables-save prints for one match, as  name \0 save \0 ; mirrors
 * iptables' print_match_save. */
static void print_match(const void *part, const void *ip, const char *unused) {
  const struct xt_entry_match *m = part;
  const char *name = m->u.user.name;
  struct ext_cache *c = cached(0, name, m->u.user.revision);
  struct xtables_match *match = c->found, *mt = c->exact, *shown = mt ? mt : match;
  (void)unused;
  if (!match) {
    if (m->u.match_size) xtables_error(OTHER_PROBLEM, "Can't find library for match `%s'", name);
    return;
  }
  fputs(shown->alias ? shown->alias(m) : name, stdout);
  fputc('\0', stdout);
  if (mt && mt->save)
    mt->save(ip, m);
  else if (match->save)
    fputs(" [unsupported revision]", stdout);
  fputc('\0', stdout);
}

/* An extension target, likewise; mirrors iptables' print_rule4/6. */
static void print_target(const void *part, const void *ip, const char *unused) {
  const struct xt_entry_target *t = part;
  const char *name = t->u.user.name;
  struct ext_cache *c = cached(1, name, t->u.user.revision);
  struct xtables_target *target = c->found, *tg = c->exact, *shown = tg ? tg : target;
  (void)unused;
  if (!target) xtables_error(OTHER_PROBLEM, "Can't find library for target `%s'", name);
  fputs(shown->alias ? shown->alias(t) : name, stdout);
  fputc('\0', stdout);
  if (tg && tg->save)
    tg->save(ip, t);
  else if (target->save)
    fputs(" [unsupported revision]", stdout);
  else if (t->u.target_size != sizeof(struct xt_entry_target))
    xtables_error(OTHER_PROBLEM, "Target `%s' is missing save function", name);
  fputc('\0', stdout);
}

/* ---- what iptables -L -n prints after the addresses ----------------------- */

static const char unsupported_rev[] = " [unsupported revision]";

/* One match by its print(); mirrors iptables' print_match (numeric). */
static void list_match(const void *part, const void *ip, const char *unused) {
  const struct xt_entry_match *m = part;
  struct ext_cache *c = cached(0, m->u.user.name, m->u.user.revision);
  struct xtables_match *match = c->found, *mt = c->exact;
  (void)unused;
  if (!match) {
    if (m->u.user.name[0]) printf("UNKNOWN match `%s' ", m->u.user.name);
  } else if (mt && mt->print) {
    mt->print(ip, m, 1);
  } else if (match->print) {
    printf("%s%s ", match->name, unsupported_rev);
  } else {
    printf("%s ", match->name);
  }
}

/* An extension target by its print(); mirrors iptables' print_firewall. */
static void list_target(const void *part, const void *ip, const char *unused) {
  const struct xt_entry_target *t = part;
  struct ext_cache *c = cached(1, t->u.user.name, t->u.user.revision);
  struct xtables_target *target = c->found, *tg = c->exact;
  (void)unused;
  if (!target) {
    if (t->u.target_size != sizeof(*t))
      printf("[%u bytes of unknown target data] ", (unsigned int)(t->u.target_size - sizeof(*t)));
  } else if (tg && tg->print) {
    tg->print(ip, t, 1);
  } else if (target->print) {
    printf(" %s%s", target->name, unsupported_rev);
  }
}

int xtg_describe_begin(char *err, size_t errlen) {
  cap.text = NULL;
  cap.len = 0;
  cap.ms = xtg_capture_begin(&cap.saved, &cap.text, &cap.len);
  if (!cap.ms) {
    snprintf(err, errlen, "open_memstream: %s", strerror(errno));
    return -1;
  }
  return 0;
}

void xtg_describe_end(struct xtg_buf *out) {
  xtg_capture_end(cap.ms, cap.saved);
  cap.ms = NULL;
  memo_clear();
  worth_clear();
  out->data = cap.text;
  out->len = cap.len;
  out->cap = cap.len;
}

/* One entry, as save fields (list = 0) or as iptables -L prints it, then a NUL (list = 1). */
static int describe(int nfproto, const void *entry, const char *standard_name, int list, char *err, size_t errlen) {
  const unsigned char *e = entry;
  unsigned int target_offset, off, hdr;
  volatile int count = 0;
  const struct xt_entry_target *t;

  xtables_set_nfproto(nfproto);
  if (nfproto == NFPROTO_IPV4) {
    target_offset = ((const struct ipt_entry *)entry)->target_offset;
    hdr = sizeof(struct ipt_entry);
  } else {
    target_offset = ((const struct ip6t_entry *)entry)->target_offset;
    hdr = sizeof(struct ip6t_entry);
  }
  xtg_trap_armed = 1;
  if (setjmp(xtg_trap)) {
    xtg_trap_armed = 0;
    snprintf(err, errlen, "%s", xtg_trap_msg);
    return -1;
  }
  for (off = hdr; off < target_offset;) {
    const struct xt_entry_match *m = (const void *)(e + off);
    if (m->u.match_size < sizeof(*m)) break;
    memoised(list ? 2 : 0, entry, nfproto, m, m->u.match_size, list ? list_match : print_match, NULL);
    off += m->u.match_size;
    count++;
  }
  t = (const void *)(e + target_offset);
  if (list) {
    /* The standard target (a verdict or a jump) has no print(). */
    if (!standard_name) memoised(3, entry, nfproto, t, t->u.target_size, list_target, NULL);
    fputc('\0', stdout);
  } else if (standard_name) {
    /* A verdict or a jump (or nothing): the caller names it. */
    fputs(standard_name, stdout);
    fputc('\0', stdout);
    fputc('\0', stdout);
  } else {
    memoised(1, entry, nfproto, t, t->u.target_size, print_target, NULL);
  }
  xtg_trap_armed = 0;
  return count;
}

int xtg_describe_entry(int nfproto, const void *entry, const char *standard_name, char *err, size_t errlen) {
  return describe(nfproto, entry, standard_name, 0, err, errlen);
}

int xtg_list_entry(int nfproto, const void *entry, int standard, char *err, size_t errlen) {
  return describe(nfproto, entry, standard ? "" : NULL, 1, err, errlen);
}
