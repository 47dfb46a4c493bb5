/*
 * The rule parser: what the iptables binary does with the rule-specification
 * options (-p -s -d -i -o -f -m -j -g and `!`), every other option dispatched
 * to the matches and the target through libxtables itself, so defaults and
 * checks are exactly those of iptables. See xt_glue.h. Call with the
 * process-wide lock held (xtables.h).
 */
#include "xt/xt_internal.h"

#include <ctype.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing a rule ---------------------------------------------------- */

enum {
  OPT_PROTO = 1 << 0, OPT_SRC = 1 << 1, OPT_DST = 1 << 2, OPT_IN = 1 << 3,
  OPT_OUT = 1 << 4, OPT_FRAG = 1 << 5, OPT_JUMP = 1 << 6,
};

/* Everything the parse owns lives here (static storage: it must survive the
 * longjmp so the error path can free it). */
static struct parse_state {
  union {
    struct ipt_entry v4;
    struct ip6t_entry v6;
  } fw;
  int nfproto;
  unsigned int options;
  uint8_t invflags, flags;
  char *protocol;
  int proto_used;
  const char *jumpto;
  int goto_set, jump_is_chain;
  struct xtables_rule_match *matches;
  struct xtables_target *target;
  const char *shost, *dhost;
  char iniface[IFNAMSIZ], outiface[IFNAMSIZ];
  unsigned char iniface_mask[IFNAMSIZ], outiface_mask[IFNAMSIZ];
  void *saddrs, *smasks, *daddrs, *dmasks;
  unsigned int ns, nd;
} ps;

static const char *opt_letter(unsigned int opt) {
  switch (opt) {
    case OPT_PROTO: return "p";
    case OPT_SRC: return "s";
    case OPT_DST: return "d";
    case OPT_IN: return "i";
    case OPT_OUT: return "o";
    case OPT_FRAG: return "f";
    default: return "j";
  }
}

static void set_option(unsigned int opt, int invert, uint8_t invflag) {
  if (ps.options & opt)
    xtables_error(PARAMETER_PROBLEM, "multiple -%s flags not allowed", opt_letter(opt));
  ps.options |= opt;
  if (invert) {
    if (!invflag)
      xtables_error(PARAMETER_PROBLEM, "cannot have ! before -%s", opt_letter(opt));
    ps.invflags |= invflag;
  }
}

static void init_match(struct xtables_match *m) {
  size_t size = XT_ALIGN(sizeof(struct xt_entry_match)) + m->size;
  m->m = xtables_calloc(1, size);
  m->m->u.match_size = size;
  strcpy(m->m->u.user.name, m->real_name ? m->real_name : m->name);
  m->m->u.user.revision = m->revision;
  if (m->udata_size) {
    free(m->udata);
    m->udata = xtables_calloc(1, m->udata_size);
  }
  if (m->init) m->init(m->m);
}

static void merge_match_options(struct xtables_match *m) {
  if (m->x6_options || m->extra_opts) xtg_merge_match_options(m);
}

static struct xtables_match *find_proto(enum xtables_tryload tryload,
                                        struct xtables_rule_match **matches) {
  unsigned int proto;
  if (xtables_strtoui(ps.protocol, NULL, &proto, 0, UINT8_MAX)) {
    const char *name = NULL;
    int i;
    for (i = 0; xtables_chain_protos[i].name; i++)
      if (xtables_chain_protos[i].num == proto) {
        name = xtables_chain_protos[i].name;
        break;
      }
    return name ? xtables_find_match(name, tryload, matches) : NULL;
  }
  return xtables_find_match(ps.protocol, tryload, matches);
}

static void command_match(const char *name, int invert) {
  struct xtables_match *m;
  if (invert) xtables_error(PARAMETER_PROBLEM, "unexpected ! flag before --match");
  m = xtables_find_match(name, XTF_LOAD_MUST_SUCCEED, &ps.matches);
  init_match(m);
  if (m != m->next) merge_match_options(m);
}

/* What iptables' xt_parse_target checks; the standard target's name field
 * holds at most XT_EXTENSION_MAXNAMELEN - 1 characters. */
static void check_target_name(const char *name) {
  const char *p;
  if (!*name) xtables_error(PARAMETER_PROBLEM, "Invalid target name (too short)");
  if (strlen(name) >= XT_EXTENSION_MAXNAMELEN)
    xtables_error(PARAMETER_PROBLEM, "Invalid target name `%s' (%u chars max)", name,
                  XT_EXTENSION_MAXNAMELEN - 1);
  for (p = name; *p; p++)
    if (isspace((unsigned char)*p))
      xtables_error(PARAMETER_PROBLEM, "Invalid target name `%s'", name);
}

static void command_jump(const char *name) {
  struct xtables_target *t;
  size_t size;

  check_target_name(name);
  ps.jumpto = name;
  /* A jump to a chain is no extension (and -N refuses target names). */
  t = ps.target = ps.jump_is_chain ? NULL : xtg_find_target(name);
  if (!t) return;
  size = XT_ALIGN(sizeof(struct xt_entry_target)) + t->size;
  t->t = xtables_calloc(1, size);
  t->t->u.target_size = size;
  strcpy(t->t->u.user.name, t->real_name ? t->real_name : name);
  t->t->u.user.revision = t->revision;
  if (t->udata_size) {
    free(t->udata);
    t->udata = xtables_calloc(1, t->udata_size);
  }
  if (t->init) t->init(t->t);
  xtg_merge_target_options(t);
}

/* An option none of the base options claimed: a match's, the target's, or
 * the protocol match's to be loaded on demand (-p tcp --dport 22).
 * Returns 1 when getopt must be rerun on the same word. */
static int command_default(int c, char **argv, int invert) {
  struct xtables_rule_match *mp;
  struct xtables_target *t = ps.target;
  struct xtables_match *m;

  if (t && (t->parse || t->x6_parse) && c >= (int)t->option_offset &&
      c < (int)t->option_offset + XT_OPTION_OFFSET_SCALE) {
    xtables_option_tpcall(c, argv, invert, t, &ps.fw);
    return 0;
  }
  for (mp = ps.matches; mp; mp = mp->next) {
    m = mp->match;
    if (mp->completed || (!m->x6_parse && !m->parse)) continue;
    if (c < (int)m->option_offset || c >= (int)m->option_offset + XT_OPTION_OFFSET_SCALE)
      continue;
    xtables_option_mpcall(c, argv, invert, m, &ps.fw);
    return 0;
  }
  if (ps.protocol &&
      (find_proto(XTF_DONT_LOAD, NULL) == NULL || !ps.proto_used)) {
    m = find_proto(XTF_TRY_LOAD, &ps.matches);
    if (m) {
      ps.proto_used = 1;
      init_match(m);
      merge_match_options(m);
      optind--;
      return 1;
    }
  }
  if (c == ':')
    xtables_error(PARAMETER_PROBLEM, "option \"%s\" requires an argument", argv[optind - 1]);
  if (c == '?')
    xtables_error(PARAMETER_PROBLEM, "unknown option \"%s\"", argv[optind - 1]);
  xtables_error(PARAMETER_PROBLEM, "Unknown arg \"%s\"", optarg);
}

static void parse_state_free(void) {
  xtables_rule_matches_free(&ps.matches);
  if (ps.target) {
    free(ps.target->t);
    ps.target->t = NULL;
    free(ps.target->udata);
    ps.target->udata = NULL;
    if (ps.target == ps.target->next) free(ps.target);
    ps.target = NULL;
  }
  xtg_options_reset();
  free(ps.saddrs); free(ps.smasks); free(ps.daddrs); free(ps.dmasks);
  ps.saddrs = ps.smasks = ps.daddrs = ps.dmasks = NULL;
  free(xtg_warnings_end());
}

static void use_standard_target(int is_chain) {
  struct xtables_target *t = xtables_find_target(XT_STANDARD_TARGET, XTF_LOAD_MUST_SUCCEED);
  size_t size = sizeof(struct xt_entry_target) + t->size;
  ps.target = t;
  t->t = xtables_calloc(1, size);
  t->t->u.target_size = size;
  strcpy(t->t->u.user.name, ps.jumpto);
  if (!is_chain) t->t->u.user.revision = t->revision;
  if (t->init) t->init(t->t);
}

static void *build_entry(unsigned int si, unsigned int di, unsigned int *size_out) {
  struct xtables_rule_match *mp;
  size_t hdr = ps.nfproto == NFPROTO_IPV4 ? sizeof(struct ipt_entry) : sizeof(struct ip6t_entry);
  size_t size = hdr, off;
  unsigned char *e;

  for (mp = ps.matches; mp; mp = mp->next) size += mp->match->m->u.match_size;
  /* Offsets in an entry are 16 bits wide. */
  if (size + ps.target->t->u.target_size > 0xffff)
    xtables_error(PARAMETER_PROBLEM, "rule is too large for the kernel (%zu bytes, at most 65535)",
                  size + ps.target->t->u.target_size);
  e = xtables_calloc(1, size + ps.target->t->u.target_size);
  memcpy(e, &ps.fw, hdr);
  if (ps.nfproto == NFPROTO_IPV4) {
    struct ipt_entry *e4 = (void *)e;
    e4->ip.src = ((struct in_addr *)ps.saddrs)[si];
    e4->ip.smsk = ((struct in_addr *)ps.smasks)[si];
    e4->ip.dst = ((struct in_addr *)ps.daddrs)[di];
    e4->ip.dmsk = ((struct in_addr *)ps.dmasks)[di];
    e4->target_offset = size;
    e4->next_offset = size + ps.target->t->u.target_size;
  } else {
    struct ip6t_entry *e6 = (void *)e;
    e6->ipv6.src = ((struct in6_addr *)ps.saddrs)[si];
    e6->ipv6.smsk = ((struct in6_addr *)ps.smasks)[si];
    e6->ipv6.dst = ((struct in6_addr *)ps.daddrs)[di];
    e6->ipv6.dmsk = ((struct in6_addr *)ps.dmasks)[di];
    e6->target_offset = size;
    e6->next_offset = size + ps.target->t->u.target_size;
  }
  off = hdr;
  for (mp = ps.matches; mp; mp = mp->next) {
    memcpy(e + off, mp->match->m, mp->match->m->u.match_size);
    off += mp->match->m->u.match_size;
  }
  memcpy(e + off, ps.target->t, ps.target->t->u.target_size);
  *size_out = size + ps.target->t->u.target_size;
  return e;
}

/*
 * The common case of -s/-d without libxtables' general parser: a dotted quad
 * of plain decimal bytes, an optional plain decimal prefix length, nothing
 * else (xtables_ipparse_multiple reads "010" as octal, resolves names, takes
 * lists and masks; all of that goes its way). Same result: the address
 * masked. Returns 0 when the text is not of that form.
 */
static int parse_plain_ipv4(const char *s, void **addrs, void **masks, unsigned int *n) {
  uint32_t a = 0, bits = 32, v;
  int i;
  struct in_addr *ap, *mp;
  for (i = 0; i < 4; i++) {
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9')) return 0;
    for (v = 0; *s >= '0' && *s <= '9'; s++)
      if ((v = v * 10 + (uint32_t)(*s - '0')) > 255) return 0;
    a = a << 8 | v;
    if (i < 3 && *s++ != '.') return 0;
  }
  if (*s == '/') {
    s++;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0')) return 0;
    for (bits = 0; *s >= '0' && *s <= '9'; s++)
      if ((bits = bits * 10 + (uint32_t)(*s - '0')) > 32) return 0;
  }
  if (*s != '\0') return 0;
  ap = xtables_malloc(sizeof(*ap));
  mp = xtables_malloc(sizeof(*mp));
  mp->s_addr = htonl(bits == 0 ? 0 : 0xffffffffu << (32 - bits));
  ap->s_addr = htonl(a) & mp->s_addr;
  *addrs = ap;
  *masks = mp;
  *n = 1;
  return 1;
}

/* No -s/-d: any address (what "0.0.0.0/0" and "::0/0" parse to). */
static void parse_any(size_t size, void **addrs, void **masks, unsigned int *n) {
  *addrs = xtables_calloc(1, size);
  *masks = xtables_calloc(1, size);
  *n = 1;
}

static void post_parse(void) {
  int v4 = ps.nfproto == NFPROTO_IPV4;
  if (v4) {
    struct ipt_entry *e = &ps.fw.v4;
    e->ip.flags = ps.flags | (ps.goto_set ? IPT_F_GOTO : 0);
    e->ip.invflags = ps.invflags;
    memcpy(e->ip.iniface, ps.iniface, IFNAMSIZ);
    memcpy(e->ip.iniface_mask, ps.iniface_mask, IFNAMSIZ);
    memcpy(e->ip.outiface, ps.outiface, IFNAMSIZ);
    memcpy(e->ip.outiface_mask, ps.outiface_mask, IFNAMSIZ);
    if (!ps.shost) parse_any(sizeof(struct in_addr), &ps.saddrs, &ps.smasks, &ps.ns);
    else if (!parse_plain_ipv4(ps.shost, &ps.saddrs, &ps.smasks, &ps.ns))
      xtables_ipparse_multiple(ps.shost, (struct in_addr **)&ps.saddrs, (struct in_addr **)&ps.smasks, &ps.ns);
    if (!ps.dhost) parse_any(sizeof(struct in_addr), &ps.daddrs, &ps.dmasks, &ps.nd);
    else if (!parse_plain_ipv4(ps.dhost, &ps.daddrs, &ps.dmasks, &ps.nd))
      xtables_ipparse_multiple(ps.dhost, (struct in_addr **)&ps.daddrs, (struct in_addr **)&ps.dmasks, &ps.nd);
  } else {
    struct ip6t_entry *e = &ps.fw.v6;
    e->ipv6.flags = ps.flags | (ps.goto_set ? IP6T_F_GOTO : 0);
    e->ipv6.invflags = ps.invflags;
    memcpy(e->ipv6.iniface, ps.iniface, IFNAMSIZ);
    memcpy(e->ipv6.iniface_mask, ps.iniface_mask, IFNAMSIZ);
    memcpy(e->ipv6.outiface, ps.outiface, IFNAMSIZ);
    memcpy(e->ipv6.outiface_mask, ps.outiface_mask, IFNAMSIZ);
    if (!ps.shost) parse_any(sizeof(struct in6_addr), &ps.saddrs, &ps.smasks, &ps.ns);
    else xtables_ip6parse_multiple(ps.shost, (struct in6_addr **)&ps.saddrs, (struct in6_addr **)&ps.smasks, &ps.ns);
    if (!ps.dhost) parse_any(sizeof(struct in6_addr), &ps.daddrs, &ps.dmasks, &ps.nd);
    else xtables_ip6parse_multiple(ps.dhost, (struct in6_addr **)&ps.daddrs, (struct in6_addr **)&ps.dmasks, &ps.nd);
  }
  if ((ps.ns > 1 || ps.nd > 1) && (ps.invflags & (IPT_INV_SRCIP | IPT_INV_DSTIP)))
    xtables_error(PARAMETER_PROBLEM,
                  "! not allowed with multiple source or destination IP addresses");
}

static void set_proto(int invert) {
  char *p;
  uint16_t proto;
  set_option(OPT_PROTO, invert, XT_INV_PROTO);
  for (p = optarg; *p; p++) *p = tolower((unsigned char)*p);
  ps.protocol = optarg;
  proto = xtables_parse_protocol(optarg);
  if (proto == 0 && (ps.invflags & XT_INV_PROTO))
    xtables_error(PARAMETER_PROBLEM, "rule would never match protocol");
  /* The entry must carry the protocol now: extensions read it while parsing. */
  if (ps.nfproto == NFPROTO_IPV4) {
    ps.fw.v4.ip.proto = proto;
    ps.fw.v4.ip.invflags = ps.invflags;
  } else {
    ps.fw.v6.ipv6.proto = proto;
    ps.fw.v6.ipv6.invflags = ps.invflags;
    ps.flags |= IP6T_F_PROTO;
    ps.fw.v6.ipv6.flags |= IP6T_F_PROTO;
  }
}

int xtg_parse_rule(int nfproto, const char *table, int argc, char **argv,
                   int jump_is_chain, struct xtg_parsed *out, char *err,
                   size_t errlen) {
  struct xtables_match *m;
  struct xtables_target *t;
  struct xtables_rule_match *mp;
  int c;
  volatile int invert = 0;
  unsigned int si, di, k;

  memset(&ps, 0, sizeof(ps));
  memset(out, 0, sizeof(*out));
  ps.nfproto = nfproto;
  ps.jump_is_chain = jump_is_chain;
  xtables_set_nfproto(nfproto);
  xt_params->option_offset = 0;
  xt_params->opts = xt_params->orig_opts;
  xtg_options_begin();
  for (m = xtables_matches; m; m = m->next) m->mflags = 0;
  for (t = xtables_targets; t; t = t->next) {
    t->tflags = 0;
    t->used = 0;
  }
  xtg_warnings_begin();

  xtg_trap_armed = 1;
  if (setjmp(xtg_trap)) {
    xtg_trap_armed = 0;
    parse_state_free();
    snprintf(err, errlen, "%s", xtg_trap_msg);
    return -1;
  }

  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "-:p:s:d:i:o:j:g:m:f", xt_params->opts, NULL)) != -1) {
    switch (c) {
      case 'p': set_proto(invert); break;
      case 's': set_option(OPT_SRC, invert, IPT_INV_SRCIP); ps.shost = optarg; break;
      case 'd': set_option(OPT_DST, invert, IPT_INV_DSTIP); ps.dhost = optarg; break;
      case 'i':
      case 'o':
        if (!*optarg) xtables_error(PARAMETER_PROBLEM, "Empty interface is likely to be undesired");
        if (c == 'i') {
          set_option(OPT_IN, invert, IPT_INV_VIA_IN);
          xtables_parse_interface(optarg, ps.iniface, ps.iniface_mask);
        } else {
          set_option(OPT_OUT, invert, IPT_INV_VIA_OUT);
          xtables_parse_interface(optarg, ps.outiface, ps.outiface_mask);
        }
        break;
      case 'f':
        if (nfproto == NFPROTO_IPV6)
          xtables_error(PARAMETER_PROBLEM, "`-f' is not supported in IPv6, use -m frag instead");
        set_option(OPT_FRAG, invert, IPT_INV_FRAG);
        ps.flags |= IPT_F_FRAG;
        break;
      case 'j':
        set_option(OPT_JUMP, invert, 0);
        command_jump(optarg);
        break;
      case 'g':
        set_option(OPT_JUMP, invert, 0);
        ps.goto_set = 1;
        check_target_name(optarg); /* as iptables does for -g too: the name goes into a 29-byte field */
        ps.jumpto = optarg;
        break;
      case 'm': command_match(optarg, invert); break;
      case 1:
        if (optarg[0] == '!' && optarg[1] == '\0') {
          if (invert) xtables_error(PARAMETER_PROBLEM, "multiple consecutive ! not allowed");
          invert = 1;
          continue;
        }
        xtables_error(PARAMETER_PROBLEM, "Bad argument `%s'", optarg);
      default:
        if (command_default(c, argv, invert)) continue;
        break;
    }
    invert = 0;
  }

  if (table && strcmp(table, "nat") == 0 && ps.jumpto && strcmp(ps.jumpto, "DROP") == 0)
    xtables_error(PARAMETER_PROBLEM,
                  "The \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.");
  for (mp = ps.matches; mp; mp = mp->next) xtables_option_mfcall(mp->match);
  if (ps.target) xtables_option_tfcall(ps.target);
  if (optind < argc) xtables_error(PARAMETER_PROBLEM, "unknown arguments found on commandline");
  if (invert) xtables_error(PARAMETER_PROBLEM, "nothing appropriate following !");
  post_parse();

  if (!ps.jumpto) ps.jumpto = "";
  if (ps.target && jump_is_chain) {
    fprintf(stderr, "Warning: using chain %s, not extension\n", ps.jumpto);
    free(ps.target->t);
    ps.target->t = NULL;
    ps.target = NULL;
  }
  if (!ps.target && (!*ps.jumpto || jump_is_chain)) use_standard_target(jump_is_chain);
  if (!ps.target) {
    if (ps.goto_set) xtables_error(PARAMETER_PROBLEM, "goto '%s' is not a chain", ps.jumpto);
    xtables_find_target(ps.jumpto, XTF_LOAD_MUST_SUCCEED);
    xtables_error(PARAMETER_PROBLEM, "Couldn't load target `%s'", ps.jumpto);
  }

  out->standard = strcmp(ps.target->name, "standard") == 0;
  snprintf(out->target_name, sizeof(out->target_name), "%s", ps.jumpto);
  out->n_entries = ps.ns * ps.nd;
  out->entries = xtables_calloc(out->n_entries, sizeof(void *));
  out->sizes = xtables_calloc(out->n_entries, sizeof(unsigned int));
  k = 0;
  for (si = 0; si < ps.ns; si++)
    for (di = 0; di < ps.nd; di++, k++)
      out->entries[k] = build_entry(si, di, &out->sizes[k]);
  xtg_trap_armed = 0;
  out->warnings = xtg_warnings_end();
  parse_state_free();
  return 0;
}

void xtg_free_parsed(struct xtg_parsed *p) {
  int i;
  for (i = 0; i < p->n_entries; i++) free(p->entries[i]);
  free(p->entries);
  free(p->sizes);
  free(p->warnings);
  memset(p, 0, sizeof(*p));
}
