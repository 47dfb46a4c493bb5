/* The floor for changing one rule of an iptables-nft table: only the batch
 * that does it (BATCH_BEGIN with the generation, one NEWRULE or DELRULE,
 * BATCH_END), sent and its answer read. The rule is the bench's
 * `-p udp -m udp --dport 9 -j ACCEPT` as iptables-nft 1.8.9 encodes it
 * (meta l4proto, cmp, payload transport +2, cmp, counter, immediate accept),
 * appended to ip TABLE CHAIN; the other half of each run (the delete after an
 * append, the append before a delete) is not timed. Nothing is read or dumped:
 * this is the kernel's own share of `iptables-nft -A` / `-D` and of a
 * Table.update that appends or deletes one rule.
 * usage: nft_one_rule TABLE CHAIN append|delete RUNS  -> prints the median ms */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
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

static struct mnl_socket *nl;
static uint32_t seq;
static char buf[1 << 16];
static const char *table, *chain;

static void add(struct nftnl_rule *r, const char *name, void (*fill)(struct nftnl_expr *)) {
  struct nftnl_expr *e = nftnl_expr_alloc(name);
  fill(e);
  nftnl_rule_add_expr(r, e);
}
static void l4proto(struct nftnl_expr *e) {
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}
static void is_udp(struct nftnl_expr *e) {
  uint8_t udp = IPPROTO_UDP;
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &udp, sizeof(udp));
}
static void dport(struct nftnl_expr *e) {
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}
static void is_9(struct nftnl_expr *e) {
  uint16_t port = htons(9);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &port, sizeof(port));
}
static void counter(struct nftnl_expr *e) {
  nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, 0);
  nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, 0);
}
static void verdict_accept(struct nftnl_expr *e) {
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
}

/* The ruleset's generation (NFT_MSG_GETGEN), which the batch carries. */
static int gen_cb(const struct nlmsghdr *nh, void *arg) {
  const struct nlattr *a;
  mnl_attr_for_each(a, nh, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == NFTA_GEN_ID) *(uint32_t *)arg = ntohl(mnl_attr_get_u32(a));
  return MNL_CB_OK;
}
static uint32_t genid(void) {
  /* (What the last batch left: the echo's NEWGEN announcement.) */
  while (recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT) > 0) continue;
  struct nlmsghdr *nh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, ++seq);
  uint32_t g = 0;
  if (mnl_socket_sendto(nl, nh, nh->nlmsg_len) < 0) { perror("sendto"); exit(1); }
  ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
  if (n < 0 || mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), gen_cb, &g) < 0) { perror("getgen"); exit(1); }
  return g;
}

/* One batch with one rule message: append (handle 0; returns the new rule's
 * handle, echoed) or delete `handle`. Timed from the build to the answer. */
static uint64_t handle_of;
static int echo_cb(const struct nlmsghdr *nh, void *arg) {
  const struct nlattr *a;
  (void)arg;
  mnl_attr_for_each(a, nh, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == NFTA_RULE_HANDLE) handle_of = be64toh(mnl_attr_get_u64(a));
  return MNL_CB_OK;
}
static double batch(uint64_t handle, uint64_t *added) {
  uint32_t g = genid();
  double t0 = now_ms();
  char out[1 << 12];
  struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(out, sizeof(out));
  struct nlmsghdr *nh = nftnl_batch_begin(mnl_nlmsg_batch_current(b), ++seq);
  mnl_attr_put_u32(nh, NFNL_BATCH_GENID, htonl(g));
  mnl_nlmsg_batch_next(b);
  struct nftnl_rule *r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  uint32_t rseq = ++seq;
  if (handle) {
    nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
    nh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_DELRULE, NFPROTO_IPV4, 0, rseq);
  } else {
    add(r, "meta", l4proto);
    add(r, "cmp", is_udp);
    add(r, "payload", dport);
    add(r, "cmp", is_9);
    add(r, "counter", counter);
    add(r, "immediate", verdict_accept);
    nh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE, NFPROTO_IPV4, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ECHO, rseq);
  }
  nftnl_rule_nlmsg_build_payload(nh, r);
  nftnl_rule_free(r);
  mnl_nlmsg_batch_next(b);
  nftnl_batch_end(mnl_nlmsg_batch_current(b), ++seq);
  mnl_nlmsg_batch_next(b);
  if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) { perror("sendto"); exit(1); }
  mnl_nlmsg_batch_stop(b);
  handle_of = 0;
  if (!handle) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0 || mnl_cb_run(buf, n, rseq, mnl_socket_get_portid(nl), echo_cb, NULL) < 0) { perror("newrule"); exit(1); }
    *added = handle_of;
  }
  return now_ms() - t0;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: nft_one_rule TABLE CHAIN append|delete RUNS\n"); return 2; }
  table = argv[1];
  chain = argv[2];
  int append = strcmp(argv[3], "append") == 0, runs = atoi(argv[4]);
  nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) { perror("netlink"); return 1; }
  seq = (uint32_t)time(NULL);
  double *t = calloc(runs, sizeof(double));
  for (int i = 0; i < runs; i++) {
    uint64_t h = 0;
    double a = batch(0, &h);
    if (!h) { fprintf(stderr, "no handle echoed\n"); return 1; }
    double d = batch(h, NULL);
    t[i] = append ? a : d;
  }
  qsort(t, runs, sizeof(double), cmp);
  printf("%.3f\n", t[runs / 2]);
  return 0;
}
