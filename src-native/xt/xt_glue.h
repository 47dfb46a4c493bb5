/*
 * The C side of libxtables (xt_core.c: init, the error trap, output
 * capture; xt_parse.c: the rule parser; xt_print.c: the printer). Written in
 * C on purpose: libxtables reports bad input by calling exit_err, which we
 * turn into a longjmp back to the entry point, and no C++ object with a
 * destructor may live across that jump.
 *
 * Every function here must be called with the process-wide lock held
 * (see xtables.h) — libxtables is one global state machine.
 */
#ifndef IPTC_XT_GLUE_H
#define IPTC_XT_GLUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XTG_ERRLEN 1024

/* Initialise libxtables once (both families share one library state). */
int xtg_init(char *err, size_t errlen);

/* Select the family (NFPROTO_IPV4 / NFPROTO_IPV6) for the next calls. */
void xtg_set_family(int nfproto);

/* Whether libxtables has a target of this name for the family (an
 * extension such as LOG or MARK, whatever options it would need). */
int xtg_target_exists(int nfproto, const char *name);

/*
 * Parse one rule specification (the part of an iptables command after the
 * chain name, already split into words) into kernel entries.
 * argv[0] is a dummy program name, as for getopt.
 * Several entries come out when -s or -d list several addresses.
 * On success returns 0 and sets *entries (n_entries pointers, each malloc'ed,
 * sizes in *sizes, both arrays malloc'ed; free with xtg_free_entries).
 * On failure returns -1 with the libxtables message in err.
 * `warnings` receives what extensions printed on stderr (malloc'ed or NULL).
 */
struct xtg_parsed {
  int n_entries;
  void **entries;
  unsigned int *sizes;
  char *warnings;
  /* 1 when the target is a verdict or a jump (the kernel's standard target,
   * whose name libiptc reports as target_name rather than the entry's). */
  int standard;
  char target_name[32];
};
int xtg_parse_rule(int nfproto, const char *table, int argc, char **argv,
                   int jump_is_chain, struct xtg_parsed *out, char *err,
                   size_t errlen);
void xtg_free_parsed(struct xtg_parsed *p);

/*
 * The printer. Between xtg_describe_begin and xtg_describe_end, extension
 * output goes to one memory buffer; each xtg_describe_entry appends the
 * entry's matches as  name \0 save-text \0  and its target the same way.
 * `standard_name` is given when the target is the standard one: the verdict
 * or chain name to print ("" when the rule has no target); NULL for an
 * extension target. Identical matches and targets are printed once per
 * batch. xtg_describe_end hands the buffer over (free it with
 * xtg_buf_free). describe_entry returns the number of matches, or -1 with
 * err set.
 */
struct xtg_buf {
  char *data;
  size_t len, cap;
};
int xtg_describe_begin(char *err, size_t errlen);
int xtg_describe_entry(int nfproto, const void *entry, const char *standard_name, char *err, size_t errlen);
void xtg_describe_end(struct xtg_buf *out);
/* Between the same begin and end: what `iptables -L -n` prints for an
 * entry's matches and (an extension's, unless `standard`) target, each by
 * its print(), then a NUL. Returns the number of matches, or -1. */
int xtg_list_entry(int nfproto, const void *entry, int standard, char *err, size_t errlen);
void xtg_buf_free(struct xtg_buf *b);

/* The name iptables-save gives a protocol number (its own list first, then
 * /etc/protocols), or NULL: then it prints the number. */
const char *xtg_proto_name(unsigned int proto);

#ifdef __cplusplus
}
#endif

#endif
