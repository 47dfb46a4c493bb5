#include "family.h"

#include <stdexcept>
#include <string.h>

namespace iptc {

Label::Label(const std::string& s) { strncpy(buf, s.c_str(), sizeof(buf) - 1); }

#define ENTRY4(p) (static_cast<const ipt_entry*>(p))
#define ENTRY6(p) (static_cast<const ip6t_entry*>(p))

static const Family kIpv4 = {
    "ipv4", NFPROTO_IPV4, sizeof(ipt_entry), sizeof(ipt_ip), "/proc/thread-self/net/ip_tables_names",
    iptc_init, iptc_free, iptc_first_chain, iptc_next_chain,
    [](const char* c, xtc_handle* h) -> const void* { return iptc_first_rule(c, h); },
    [](const void* e, xtc_handle* h) -> const void* { return iptc_next_rule(ENTRY4(e), h); },
    [](const void* e, xtc_handle* h) { return iptc_get_target(ENTRY4(e), h); },
    [](const char* c, xtc_handle* h) { return iptc_builtin(c, h); },
    [](const char* c, xtc_handle* h) { return iptc_is_chain(c, h); },
    iptc_get_policy,
    [](unsigned* r, const char* c, xtc_handle* h) { return iptc_get_references(r, c, h); },
    [](const char* c, const void* e, unsigned n, xtc_handle* h) { return iptc_insert_entry(c, ENTRY4(e), n, h); },
    [](const char* c, const void* e, unsigned n, xtc_handle* h) { return iptc_replace_entry(c, ENTRY4(e), n, h); },
    [](const char* c, const void* e, xtc_handle* h) { return iptc_append_entry(c, ENTRY4(e), h); },
    [](const char* c, unsigned n, xtc_handle* h) { return iptc_delete_num_entry(c, n, h); },
    [](const char* c, xtc_handle* h) { return iptc_flush_entries(c, h); },
    [](const char* c, xtc_handle* h) { return iptc_zero_entries(c, h); },
    [](const char* c, xtc_handle* h) { return iptc_create_chain(c, h); },
    [](const char* c, xtc_handle* h) { return iptc_delete_chain(c, h); },
    [](const char* a, const char* b, xtc_handle* h) { return iptc_rename_chain(a, b, h); },
    [](const char* c, const char* p, xt_counters* k, xtc_handle* h) { return iptc_set_policy(c, p, k, h); },
    [](const char* c, unsigned n, xtc_handle* h) { return iptc_zero_counter(c, n, h); },
    [](const char* c, unsigned n, xt_counters* k, xtc_handle* h) { return iptc_set_counter(c, n, k, h); },
    iptc_commit, iptc_strerror,
    [](const void* e) -> uint16_t { return ENTRY4(e)->target_offset; },
    [](const void* e) -> uint16_t { return ENTRY4(e)->next_offset; },
    [](const void* e) { return ENTRY4(e)->counters; },
};

static const Family kIpv6 = {
    "ipv6", NFPROTO_IPV6, sizeof(ip6t_entry), sizeof(ip6t_ip6), "/proc/thread-self/net/ip6_tables_names",
    ip6tc_init, ip6tc_free, ip6tc_first_chain, ip6tc_next_chain,
    [](const char* c, xtc_handle* h) -> const void* { return ip6tc_first_rule(c, h); },
    [](const void* e, xtc_handle* h) -> const void* { return ip6tc_next_rule(ENTRY6(e), h); },
    [](const void* e, xtc_handle* h) { return ip6tc_get_target(ENTRY6(e), h); },
    [](const char* c, xtc_handle* h) { return ip6tc_builtin(c, h); },
    [](const char* c, xtc_handle* h) { return ip6tc_is_chain(c, h); },
    ip6tc_get_policy,
    [](unsigned* r, const char* c, xtc_handle* h) { return ip6tc_get_references(r, c, h); },
    [](const char* c, const void* e, unsigned n, xtc_handle* h) { return ip6tc_insert_entry(c, ENTRY6(e), n, h); },
    [](const char* c, const void* e, unsigned n, xtc_handle* h) { return ip6tc_replace_entry(c, ENTRY6(e), n, h); },
    [](const char* c, const void* e, xtc_handle* h) { return ip6tc_append_entry(c, ENTRY6(e), h); },
    [](const char* c, unsigned n, xtc_handle* h) { return ip6tc_delete_num_entry(c, n, h); },
    [](const char* c, xtc_handle* h) { return ip6tc_flush_entries(c, h); },
    [](const char* c, xtc_handle* h) { return ip6tc_zero_entries(c, h); },
    [](const char* c, xtc_handle* h) { return ip6tc_create_chain(c, h); },
    [](const char* c, xtc_handle* h) { return ip6tc_delete_chain(c, h); },
    [](const char* a, const char* b, xtc_handle* h) { return ip6tc_rename_chain(a, b, h); },
    [](const char* c, const char* p, xt_counters* k, xtc_handle* h) { return ip6tc_set_policy(c, p, k, h); },
    [](const char* c, unsigned n, xtc_handle* h) { return ip6tc_zero_counter(c, n, h); },
    [](const char* c, unsigned n, xt_counters* k, xtc_handle* h) { return ip6tc_set_counter(c, n, k, h); },
    ip6tc_commit, ip6tc_strerror,
    [](const void* e) -> uint16_t { return ENTRY6(e)->target_offset; },
    [](const void* e) -> uint16_t { return ENTRY6(e)->next_offset; },
    [](const void* e) { return ENTRY6(e)->counters; },
};

const Family& FamilyFor(const std::string& name) {
  if (name == "ipv4") return kIpv4;
  if (name == "ipv6") return kIpv6;
  throw std::invalid_argument("family must be 'ipv4' or 'ipv6'");
}

}  // namespace iptc
