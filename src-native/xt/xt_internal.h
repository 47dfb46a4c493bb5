/*
 * What the C files of the libxtables glue share (xt_core.c, xt_parse.c,
 * xt_print.c); not for the C++ side, which uses xt_glue.h.
 */
#ifndef IPTC_XT_INTERNAL_H
#define IPTC_XT_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdio.h>

/* Before anything that includes <net/if.h>: the two if.h headers collide.
 * (Headers only: nothing of libiptc is called.) */
#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
/* The internal part of xtables.h (afinfo, XT_OPTION_OFFSET_SCALE) is what
 * the iptables binary itself uses; libxtables exports all of it. */
#define XTABLES_INTERNAL
#include <xtables.h>

#include "xt/xt_glue.h"

/* The error trap: libxtables reports bad input through exit_err, which
 * longjmps to xtg_trap while xtg_trap_armed, with the message in xtg_trap_msg. */
extern jmp_buf xtg_trap;
extern int xtg_trap_armed;
extern char xtg_trap_msg[XTG_ERRLEN];

/* A target by name for the current family, or NULL: never poisons later
 * lookups, never exits (see xt_core.c). */
struct xtables_target *xtg_find_target(const char *name);

/* Warnings: stderr pointed at one process-wide stream while a rule is
 * parsed; end gives back stderr and a malloc'ed copy of what was printed
 * (or NULL). See xt_options.c. */
void xtg_warnings_begin(void);
char *xtg_warnings_end(void);

/* getopt's merged option tables, kept per sequence of extensions merged in a
 * rule: begin at a rule's start, merge each extension as libxtables would,
 * reset at its end (back to the base options). See xt_options.c. */
void xtg_options_begin(void);
void xtg_merge_match_options(struct xtables_match *m);
void xtg_merge_target_options(struct xtables_target *t);
void xtg_options_reset(void);

/* Points the `stdout` variable (not fd 1) at a memory stream, and back. */
FILE *xtg_capture_begin(FILE **saved, char **buf, size_t *len);
void xtg_capture_end(FILE *ms, FILE *saved);

#endif
