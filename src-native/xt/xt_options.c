/*
 * Two things the rule parser (xt_parse.c) keeps for the whole process: the
 * stream that catches what extensions print on stderr while a rule is
 * parsed, and the merged getopt option tables, one per sequence of
 * extensions. See xt_internal.h.
 */
#include "xt/xt_internal.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* What extensions print on stderr while parsing (warnings): one unbuffered
 * stream for the process whose writes land in `text`, emptied for each parse
 * (no flush, seek or rewind per rule). */
static struct {
  FILE *f;
  char *text;
  size_t len, cap;
} warn;
static FILE *saved_stderr;

static ssize_t warn_write(void *cookie, const char *buf, size_t n) {
  (void)cookie;
  if (warn.len + n + 1 > warn.cap) {
    size_t cap = warn.cap ? warn.cap : 256;
    char *p;
    while (warn.len + n + 1 > cap) cap *= 2;
    if (!(p = realloc(warn.text, cap))) return -1;
    warn.text = p;
    warn.cap = cap;
  }
  memcpy(warn.text + warn.len, buf, n);
  warn.len += n;
  return (ssize_t)n;
}

void xtg_warnings_begin(void) {
  if (!warn.f) {
    cookie_io_functions_t io = {.write = warn_write};
    warn.f = fopencookie(NULL, "w", io);
    if (!warn.f) return;
    setvbuf(warn.f, NULL, _IONBF, 0);
  }
  warn.len = 0;
  saved_stderr = stderr;
  stderr = warn.f;
}

/* Restores stderr; returns a malloc'ed copy of what was printed, or NULL. */
char *xtg_warnings_end(void) {
  if (!warn.f || !saved_stderr) return NULL;
  stderr = saved_stderr;
  saved_stderr = NULL;
  return warn.len > 0 ? strndup(warn.text, warn.len) : NULL;
}

/* ---- merged option tables, remembered ------------------------------------
 * getopt needs one table of every option of the base and of each extension
 * loaded so far in the rule; libxtables builds a new one (and frees the old)
 * for each extension loaded. The table and the option offsets it assigns
 * depend only on the sequence of extensions merged since the rule began, so
 * each sequence is built once and kept: a tree whose nodes are "this
 * extension merged after that node". Past kMaxNodes sequences, the rest are
 * built per rule as libxtables builds them. */
enum { kMaxNodes = 4096 };
static struct opts_node {
  const void *ext;          /* the extension merged (a match or a target) */
  int parent;               /* -1: merged onto the base options */
  struct option *opts;      /* the merged table (kept for the process) */
  int sets_offset;          /* whether the merge assigned an option offset */
  unsigned int ext_offset;  /* the offset it assigned to the extension */
  unsigned int after;       /* xt_params->option_offset after the merge */
} *opts_nodes;
static int opts_count;
/* In the current rule: the node of xt_params->opts, or -1 at the base, or
 * -2 when xt_params->opts is the rule's own (built uncached: freed at end). */
static int opts_at;

typedef struct option *(*merge_fn)(const void *ext, struct option *old, unsigned int *offset);

static struct option *merge_match_fn(const void *ext, struct option *old, unsigned int *offset) {
  const struct xtables_match *m = ext;
  if (m->x6_options) return xtables_options_xfrm(xt_params->orig_opts, old, m->x6_options, offset);
  return xtables_merge_options(xt_params->orig_opts, old, m->extra_opts, offset);
}

static struct option *merge_target_fn(const void *ext, struct option *old, unsigned int *offset) {
  const struct xtables_target *t = ext;
  if (t->x6_options) return xtables_options_xfrm(xt_params->orig_opts, old, t->x6_options, offset);
  return xtables_merge_options(xt_params->orig_opts, old, t->extra_opts, offset);
}

/* Merges ext's options into xt_params->opts; *offset is the extension's
 * option_offset (left as it was when the merge assigns none, as libxtables
 * leaves it). */
static void merge_options(const void *ext, merge_fn merge, unsigned int *offset) {
  struct option *opts;
  int i;
  if (opts_at != -2) {
    for (i = 0; i < opts_count; i++) {
      struct opts_node *n = &opts_nodes[i];
      if (n->parent != opts_at || n->ext != ext) continue;
      xt_params->opts = n->opts;
      if (n->sets_offset) *offset = n->ext_offset;
      xt_params->option_offset = n->after;
      opts_at = i;
      return;
    }
    if (!opts_nodes) opts_nodes = calloc(kMaxNodes, sizeof(*opts_nodes));
    if (opts_nodes && opts_count < kMaxNodes) {
      struct option *old = xt_params->opts;
      unsigned int before = xt_params->option_offset, assigned = *offset;
      struct opts_node *n = &opts_nodes[opts_count];
      xt_params->opts = xt_params->orig_opts; /* the merge frees this: the kept table must stay */
      opts = merge(ext, old, &assigned);
      if (!opts) xtables_error(OTHER_PROBLEM, "can't alloc memory!");
      n->ext = ext;
      n->parent = opts_at;
      n->opts = opts;
      n->sets_offset = xt_params->option_offset != before;
      n->ext_offset = assigned;
      n->after = xt_params->option_offset;
      xt_params->opts = opts;
      *offset = assigned;
      opts_at = opts_count++;
      return;
    }
  }
  {
    struct option *old = xt_params->opts;
    if (opts_at != -2) xt_params->opts = xt_params->orig_opts; /* a kept table: not the merge's to free */
    opts = merge(ext, old, offset);
    if (!opts) xtables_error(OTHER_PROBLEM, "can't alloc memory!");
    if (opts != old) opts_at = -2;
    xt_params->opts = opts;
  }
}

void xtg_options_reset(void) {
  if (opts_at == -2) xtables_free_opts(1);
  xt_params->opts = xt_params->orig_opts;
  opts_at = -1;
}

void xtg_options_begin(void) { opts_at = -1; }

void xtg_merge_match_options(struct xtables_match *m) {
  merge_options(m, merge_match_fn, &m->option_offset);
}

void xtg_merge_target_options(struct xtables_target *t) {
  merge_options(t, merge_target_fn, &t->option_offset);
}
