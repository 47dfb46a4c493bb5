/*
 * The core of the libxtables glue: initialisation, the error trap, our own
 * revision probe, target libraries for both families, output capture. See
 * xt_glue.h. Every function here must be called with the process-wide lock
 * held (see xtables.h): libxtables is one global state machine.
 */
#include "xt/xt_internal.h"

#include <dlfcn.h>
#include <getopt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exported by libxtables, not declared by its header. */
extern struct xtables_match *xtables_pending_matches;
extern struct xtables_target *xtables_pending_targets;

/* ---- the error xtg_trap ---------------------------------------------------- */

jmp_buf xtg_trap;
int xtg_trap_armed;
char xtg_trap_msg[XTG_ERRLEN];

static void trap_exit_err(enum xtables_exittype status, const char *msg, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

static void trap_exit_err(enum xtables_exittype status, const char *msg, ...) {
  va_list ap;
  size_t n;
  (void)status;
  va_start(ap, msg);
  vsnprintf(xtg_trap_msg, sizeof(xtg_trap_msg), msg, ap);
  va_end(ap);
  /* iptables messages often end in a newline (or start with one). */
  n = strlen(xtg_trap_msg);
  while (n > 0 && (xtg_trap_msg[n - 1] == '\n' || xtg_trap_msg[n - 1] == ' '))
    xtg_trap_msg[--n] = '\0';
  if (xtg_trap_armed) longjmp(xtg_trap, 1);
  /* Every libxtables call is made under the xtg_trap; reaching here is a bug in
   * this file. Abort loudly rather than let libxtables exit() silently. */
  fprintf(stderr, "iptc-node: libxtables error outside the xtg_trap: %s\n", xtg_trap_msg);
  abort();
}

/* Our own revision probe: the stock one may spawn modprobe and exit(1). */
static int probe_revision(const char *name, uint8_t revision, int opt) {
  struct xt_get_revision rev;
  socklen_t len = sizeof(rev);
  int family = opt == IP6T_SO_GET_REVISION_MATCH || opt == IP6T_SO_GET_REVISION_TARGET
                   ? AF_INET6 : AF_INET;
  int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
  int fd, ret, saved;

  fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return 1; /* EPERM and friends: assume supported */
  memset(&rev, 0, sizeof(rev));
  strncpy(rev.name, name, sizeof(rev.name) - 1);
  rev.revision = revision;
  ret = getsockopt(fd, level, opt, &rev, &len);
  saved = errno;
  close(fd);
  if (ret >= 0) return 1;
  if (saved == ENOENT || saved == EPROTONOSUPPORT || saved == ENOPROTOOPT)
    return revision == 0;
  return 1;
}

static const struct option base_opts[] = {
    {.name = "protocol", .has_arg = 1, .val = 'p'},
    {.name = "source", .has_arg = 1, .val = 's'},
    {.name = "src", .has_arg = 1, .val = 's'},
    {.name = "destination", .has_arg = 1, .val = 'd'},
    {.name = "dst", .has_arg = 1, .val = 'd'},
    {.name = "in-interface", .has_arg = 1, .val = 'i'},
    {.name = "out-interface", .has_arg = 1, .val = 'o'},
    {.name = "jump", .has_arg = 1, .val = 'j'},
    {.name = "goto", .has_arg = 1, .val = 'g'},
    {.name = "match", .has_arg = 1, .val = 'm'},
    {.name = "fragment", .has_arg = 0, .val = 'f'},
    {NULL},
};

static struct xtables_globals globals = {
    .option_offset = 0,
    .program_name = "iptables",
    .program_version = "1.8.9",
    .orig_opts = (struct option *)base_opts,
    .opts = (struct option *)base_opts,
    .exit_err = trap_exit_err,
    .compat_rev = probe_revision,
};

int xtg_init(char *err, size_t errlen) {
  static int done;
  if (done) return 0;
  /* xtables_init_all itself reports through exit_err. */
  xtg_trap_armed = 1;
  if (setjmp(xtg_trap)) {
    xtg_trap_armed = 0;
    snprintf(err, errlen, "libxtables init failed: %s", xtg_trap_msg);
    return -1;
  }
  if (xtables_init_all(&globals, NFPROTO_IPV4) < 0) {
    xtg_trap_armed = 0;
    snprintf(err, errlen, "libxtables init failed");
    return -1;
  }
  xtg_trap_armed = 0;
  done = 1;
  return 0;
}

void xtg_set_family(int nfproto) { xtables_set_nfproto(nfproto); }

/* ---- target libraries for both families ------------------------------- */
/*
 * libxtables registers a target library's targets only for the family that
 * is current when the library is first loaded (matches it keeps for all), and
 * dlopen never runs a library's constructor twice. So the second family to
 * use, say, libxt_NAT.so would find no DNAT at all. For that second family
 * we load a private copy of the library (from a memfd, which dlopen sees as
 * a new object), keep the targets it registers for this family, and drop
 * everything else it registered, which the first copy already provides.
 * Lookups then go through MUST_SUCCEED under the xtg_trap, which (unlike
 * TRY_LOAD) is never short-cut by libxtables' family-blind "not a target"
 * cache.
 */
#ifndef XTG_LIBDIR
#define XTG_LIBDIR "/usr/lib/x86_64-linux-gnu/xtables"
#endif

/* By file identity: several names are often links to one library. */
struct loaded_lib {
  struct loaded_lib *next;
  int nfproto;
  dev_t dev;
  ino_t ino;
};
static struct loaded_lib *loaded_libs;

/* Where the extensions are: $XTABLES_LIBDIR, else the directory this addon
 * was built for, else (a prebuilt binary on another distribution) the
 * xtables directory beside the libxtables actually loaded. */
static const char *libdir(void) {
  static char found[PATH_MAX];
  const char *d = getenv("XTABLES_LIBDIR");
  struct stat st;
  Dl_info info;
  if (d && *d) return d;
  if (stat(XTG_LIBDIR, &st) == 0) return XTG_LIBDIR;
  if (!found[0] && dladdr((void *)xtables_init, &info) && info.dli_fname) {
    const char *slash = strrchr(info.dli_fname, '/');
    if (slash) snprintf(found, sizeof(found), "%.*s/xtables", (int)(slash - info.dli_fname), info.dli_fname);
  }
  return found[0] ? found : XTG_LIBDIR;
}

static struct link_map *object_of(const void *p) {
  Dl_info info;
  struct link_map *lm = NULL;
  if (!dladdr1(p, &info, (void **)&lm, RTLD_DL_LINKMAP)) return NULL;
  return lm;
}

static void drop_foreign(struct link_map *copy, int nfproto) {
  struct xtables_target **t = &xtables_pending_targets;
  struct xtables_match **m = &xtables_pending_matches;
  /* The copy's targets for this family stay, and so do its family-less ones:
   * a library such as libxt_TOS registers revision 0 for IPv4 only and
   * revision 1 for any family, and this family must choose between them as
   * if it had loaded the library first (the first copy's revision 1 was
   * checked against the other family's kernel, and would sit behind the
   * revision 0 registered now). */
  while (*t) {
    if (object_of(*t) == copy && (*t)->family != nfproto && (*t)->family != NFPROTO_UNSPEC) *t = (*t)->next;
    else t = &(*t)->next;
  }
  while (*m) {
    if (object_of(*m) == copy) *m = (*m)->next;
    else m = &(*m)->next;
  }
}

static void load_copy(const char *path, int nfproto) {
  char buf[65536], fdpath[64];
  int in = open(path, O_RDONLY | O_CLOEXEC), out;
  ssize_t n;
  void *h;
  struct link_map *lm = NULL;
  if (in < 0) return;
  out = memfd_create("iptc-xtables-copy", MFD_CLOEXEC);
  if (out < 0) {
    close(in);
    return;
  }
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, n) != n) break;
  close(in);
  snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", out);
  h = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
  /* The memfd stays open for good: dlopen knows objects by name first, and a
   * reused fd number would make the next copy's path name this one. */
  if (h && dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0) drop_foreign(lm, nfproto);
}

/* Names already looked for, per family: the files are stat()ed once. */
struct ensured {
  struct ensured *next;
  int nfproto;
  char name[XT_EXTENSION_MAXNAMELEN];
};
static struct ensured *ensured;

static void ensure_target_lib(const char *name) {
  const char *prefixes[2];
  int i, nfproto = afinfo->family;
  struct ensured *seen;
  for (seen = ensured; seen; seen = seen->next)
    if (seen->nfproto == nfproto && strcmp(seen->name, name) == 0) return;
  seen = calloc(1, sizeof(*seen));
  if (seen) {
    seen->nfproto = nfproto;
    snprintf(seen->name, sizeof(seen->name), "%s", name);
    seen->next = ensured;
    ensured = seen;
  }
  prefixes[0] = afinfo->libprefix;
  prefixes[1] = "libxt_";
  for (i = 0; i < 2; i++) {
    char path[PATH_MAX + 64];
    struct stat st;
    struct loaded_lib *l;
    void *h;
    snprintf(path, sizeof(path), "%s/%s%s.so", libdir(), prefixes[i], name);
    if (stat(path, &st) != 0) continue;
    for (l = loaded_libs; l; l = l->next)
      if (l->nfproto == nfproto && l->dev == st.st_dev && l->ino == st.st_ino) break;
    if (l) continue;
    l = calloc(1, sizeof(*l));
    if (!l) return;
    l->nfproto = nfproto;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    l->next = loaded_libs;
    loaded_libs = l;
    h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (!h) {
      dlopen(path, RTLD_NOW); /* first load: registers for this family */
      continue;
    }
    dlclose(h);
    /* Loaded before, by us for the other family: this family needs a copy.
     * (Loaded by libxtables itself: only for the standard target, which
     * serves every family.) */
    for (l = loaded_libs->next; l; l = l->next)
      if (l->dev == st.st_dev && l->ino == st.st_ino) break;
    if (l) load_copy(path, nfproto);
  }
}

/* A target by name, or NULL: never poisons later lookups, never exits. */
struct xtables_target *xtg_find_target(const char *name) {
  jmp_buf outer;
  struct xtables_target *volatile t = NULL;
  int armed = xtg_trap_armed;
  ensure_target_lib(name);
  memcpy(outer, xtg_trap, sizeof(xtg_trap));
  xtg_trap_armed = 1;
  if (setjmp(xtg_trap) == 0) t = xtables_find_target(name, XTF_LOAD_MUST_SUCCEED);
  memcpy(xtg_trap, outer, sizeof(xtg_trap));
  xtg_trap_armed = armed;
  return t;
}

/* ---- output capture ---------------------------------------------------- */
/* Extensions print with printf. We point the `stdout` variable (not fd 1,
 * which Node's other threads write) at a memory stream while they run. */

FILE *xtg_capture_begin(FILE **saved, char **buf, size_t *len) {
  FILE *ms = open_memstream(buf, len);
  if (!ms) return NULL;
  *saved = stdout;
  stdout = ms;
  return ms;
}

void xtg_capture_end(FILE *ms, FILE *saved) {
  fflush(ms);
  stdout = saved;
  fclose(ms);
}

void xtg_buf_free(struct xtg_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}


int xtg_target_exists(int nfproto, const char *name) {
  xtables_set_nfproto(nfproto);
  return xtg_find_target(name) != NULL;
}
