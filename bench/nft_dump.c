/* The floor for reading an iptables-nft table's counters: only the netlink
 * rule dump (one NFT_MSG_GETRULE dump of family ip, one table) and a walk of
 * each rule's attributes to its handle and counter expression; no chains, no
 * generation checks, nothing decoded, nothing kept.
 * usage: nft_dump TABLE RUNS [RULES [per-chain]]  -> prints the median ms
 * (with RULES: fails unless every read saw exactly that many rules, -1: any;
 * per-chain: a GETCHAIN dump of the table, then one GETRULE dump per chain,
 * as iptables-nft-save reads, instead of one dump of the whole table) */
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct tally {
  long rules;
  unsigned long long handles, packets, bytes; /* summed, so the walk is not optimised away */
};

/* One counter expression's data: packets and bytes. */
static void counter(const struct nlattr *data, struct tally *t) {
  const struct nlattr *a;
  mnl_attr_for_each_nested(a, data) {
    if (mnl_attr_get_type(a) == NFTA_COUNTER_PACKETS) t->packets += be64toh(mnl_attr_get_u64(a));
    else if (mnl_attr_get_type(a) == NFTA_COUNTER_BYTES) t->bytes += be64toh(mnl_attr_get_u64(a));
  }
}

static int one_rule(const struct nlmsghdr *nh, void *arg) {
  struct tally *t = arg;
  const struct nlattr *a;
  t->rules++;
  mnl_attr_for_each(a, nh, sizeof(struct nfgenmsg)) {
    if (mnl_attr_get_type(a) == NFTA_RULE_HANDLE) {
      t->handles += be64toh(mnl_attr_get_u64(a));
    } else if (mnl_attr_get_type(a) == NFTA_RULE_EXPRESSIONS) {
      const struct nlattr *e;
      mnl_attr_for_each_nested(e, a) {
        const struct nlattr *x, *name = NULL, *data = NULL;
        mnl_attr_for_each_nested(x, e) {
          if (mnl_attr_get_type(x) == NFTA_EXPR_NAME) name = x;
          else if (mnl_attr_get_type(x) == NFTA_EXPR_DATA) data = x;
        }
        if (name && data && strcmp(mnl_attr_get_str(name), "counter") == 0) counter(data, t);
      }
    }
  }
  return MNL_CB_OK;
}

static struct mnl_socket *nl;
static unsigned portid;
static uint32_t seq;
static char *buf;
static const size_t size = 1 << 18; /* a dump answers in skbs of up to 32 KB; any larger buffer does */

/* One dump request (already built in req), every answer through cb. */
static void dump(struct nlmsghdr *nh, mnl_cb_t cb, void *arg) {
  if (mnl_socket_sendto(nl, nh, nh->nlmsg_len) < 0) { perror("sendto"); exit(1); }
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, size);
    if (n < 0) { perror("recvfrom"); exit(1); }
    int ret = mnl_cb_run(buf, n, nh->nlmsg_seq, portid, cb, arg);
    if (ret == MNL_CB_STOP) return;
    if (ret < 0) { perror("dump"); exit(1); }
  }
}

/* GETRULE of the table (chain NULL) or of one chain of it. */
static void dump_rules(const char *table, const char *chain, struct tally *tally) {
  char req[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, ++seq);
  struct nftnl_rule *r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
  if (chain) nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  nftnl_rule_nlmsg_build_payload(nh, r);
  nftnl_rule_free(r);
  dump(nh, one_rule, tally);
}

struct names {
  char (*name)[NFT_CHAIN_MAXNAMELEN];
  int n, cap;
};
static int one_chain(const struct nlmsghdr *nh, void *arg) {
  struct names *c = arg;
  const struct nlattr *a;
  mnl_attr_for_each(a, nh, sizeof(struct nfgenmsg)) {
    if (mnl_attr_get_type(a) != NFTA_CHAIN_NAME) continue;
    if (c->n == c->cap) c->name = realloc(c->name, (c->cap = c->cap ? 2 * c->cap : 64) * sizeof(*c->name));
    snprintf(c->name[c->n++], NFT_CHAIN_MAXNAMELEN, "%s", mnl_attr_get_str(a));
  }
  return MNL_CB_OK;
}

int main(int argc, char **argv) {
  const char *table = argc > 1 ? argv[1] : "filter";
  int runs = argc > 2 ? atoi(argv[2]) : 10;
  long want = argc > 3 ? atol(argv[3]) : -1;
  int per_chain = argc > 4 && strcmp(argv[4], "per-chain") == 0;
  double *t = calloc(runs, sizeof(double));
  struct names chains = {0};
  buf = malloc(size);
  nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) { perror("netlink"); return 1; }
  portid = mnl_socket_get_portid(nl);
  for (int i = 0; i < runs; i++) {
    struct tally tally = {0};
    double t0 = now_ms();
    if (per_chain) {
      char req[MNL_SOCKET_BUFFER_SIZE];
      struct nlmsghdr *nh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETCHAIN, NFPROTO_IPV4, NLM_F_DUMP, ++seq);
      struct nftnl_chain *c = nftnl_chain_alloc();
      nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
      nftnl_chain_nlmsg_build_payload(nh, c);
      nftnl_chain_free(c);
      chains.n = 0;
      dump(nh, one_chain, &chains);
      for (int k = 0; k < chains.n; k++) dump_rules(table, chains.name[k], &tally);
    } else {
      dump_rules(table, NULL, &tally);
    }
    t[i] = now_ms() - t0;
    if (want >= 0 && tally.rules != want) {
      fprintf(stderr, "nft_dump: %ld rules in table %s, expected %ld\n", tally.rules, table, want);
      return 1;
    }
  }
  qsort(t, runs, sizeof(double), cmp);
  printf("%.3f\n", t[runs / 2]);
  mnl_socket_close(nl);
  return 0;
}
