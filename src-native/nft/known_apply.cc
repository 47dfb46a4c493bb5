#include "nft/known_apply.h"

// The kernel's ip_tables headers first (see xt/family.h).
#include "xt/family.h"

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>

#include <algorithm>
#include <deque>

#include "legacy/kernel.h"
#include "nft/decode.h"

namespace iptc {

namespace {

// Which family and table a message is about: every nf_tables object's
// message names its table in attribute 1 (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE,
// NFTA_RULE_TABLE, NFTA_SET_TABLE, ...).
bool Ours(const nlmsghdr* nh, const Family& fam, const std::string& table) {
  if (nh->nlmsg_len < NLMSG_HDRLEN + sizeof(nfgenmsg)) return true;  // unreadable: treat as ours
  auto* g = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nh));
  if (g->nfgen_family != fam.nfproto && g->nfgen_family != NFPROTO_UNSPEC) return false;
  auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nh, sizeof(nfgenmsg)));
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nh));
  for (; mnl_attr_ok(a, tail - reinterpret_cast<const char*>(a)); a = mnl_attr_next(a))
    if (mnl_attr_get_type(a) == 1) return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 || table == mnl_attr_get_str(a);
  return true;
}

struct Rule {
  const char* entry;
  int32_t jump;  // chain index, -1: none
  uint64_t handle;  // 0: deleted (nf_tables never gives 0)
};

// More announcements of the table than this in one catch-up (a flush of a
// long chain, a restore): each costs a scan of its chain here, so past this
// a dump is the cheaper (and the simpler) way.
constexpr size_t kMaxAnnounced = 256;

class Model {
 public:
  Model(const Family& fam, const NftKnownTable& k)
      : fam_(fam), k_(k), rules_(k.index.chains.size()), live_(k.index.chains.size()) {
    const char* entries = k.blob->data() + NewTable::kHead;
    for (size_t c = 0; c < k.index.chains.size(); c++) {
      const ChainIndex& ci = k.index.chains[c];
      rules_[c].reserve(ci.count + 1);
      for (uint32_t i = ci.first; i < ci.first + ci.count; i++)
        rules_[c].push_back(Rule{entries + k.index.offsets[i], k.index.jumps[i], k.handles[i]});
      live_[c] = ci.count;
    }
    // nf_tables numbers a table's rules upwards: a new one's handle is above all.
    for (uint64_t h : k.handles) top_ = h > top_ ? h : top_;
  }

  // One batch's announcements about this table, in order.
  bool Apply(const std::vector<const nlmsghdr*>& msgs) {
    std::vector<bool> deleted(rules_.size(), false);  // chains a rule was deleted from in this batch
    gone_.clear();
    for (const nlmsghdr* nh : msgs) {
      if (++announced_ > kMaxAnnounced) return false;
      uint16_t type = NFNL_MSG_TYPE(nh->nlmsg_type);
      if (type != NFT_MSG_NEWRULE && type != NFT_MSG_DELRULE) return false;
      nftnl_rule* r = nftnl_rule_alloc();
      bool ok = r && nftnl_rule_nlmsg_parse(nh, r) == 0 && nftnl_rule_is_set(r, NFTNL_RULE_CHAIN) &&
                nftnl_rule_is_set(r, NFTNL_RULE_HANDLE);
      long c = ok ? ChainOf(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)) : -1;
      if (ok && c >= 0) {
        ok = type == NFT_MSG_DELRULE ? Delete(c, nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE)) : Add(c, r, nh, deleted[c]);
        if (type == NFT_MSG_DELRULE) deleted[c] = true;
      }
      if (r) nftnl_rule_free(r);
      if (!ok || c < 0) return false;
    }
    return true;
  }

  // The table as it now is, byte for byte as a dump lays it out
  // (nft/table_read.cc, legacy/build.h: chain heads, rules, feet, the closing
  // ERROR entry; standard targets resolved), made in one pass: the old
  // entries copied from the known blob, the new ones from their decoding,
  // offsets and verdicts that point into the table moved to where things
  // now are. No rule is decoded again.
  bool Build(uint32_t genid, std::shared_ptr<const NftKnownTable>& out) {
    const TableIndex& ox = k_.index;
    const char* from = k_.blob->data() + NewTable::kHead;
    const size_t nc = ox.chains.size();
    const uint32_t err = ErrorEntrySize(fam_), foot = StandardEntrySize(fam_);
    // Where each chain's head and foot were, and the table's end.
    std::vector<uint32_t> oldHead(nc), oldFirst(nc), oldFoot(nc);
    uint32_t off = 0;
    for (size_t c = 0; c < nc; c++) {
      const ChainIndex& ci = ox.chains[c];
      oldHead[c] = off;
      if (ci.hook < 0) off += err;
      oldFirst[c] = off;
      if (ci.count) {
        uint32_t last = ci.first + ci.count - 1;
        off = ox.offsets[last] + fam_.nextOffset(from + ox.offsets[last]);
      }
      oldFoot[c] = off;
      off += foot;
    }
    const uint32_t oldEnd = off;
    if (NewTable::kHead + oldEnd + err != k_.blob->size()) return false;
    // Where each chain goes.
    std::vector<uint32_t> head(nc), first(nc), feet(nc);
    size_t rules = 0;
    off = 0;
    for (size_t c = 0; c < nc; c++) {
      head[c] = off;
      if (ox.chains[c].hook < 0) off += err;
      first[c] = off;
      for (const Rule& x : rules_[c])
        if (x.handle) off += fam_.nextOffset(x.entry);
      rules += live_[c];
      feet[c] = off;
      off += foot;
    }
    const uint32_t end = off;

    auto known = std::make_shared<NftKnownTable>();
    Bytes buf(NewTable::kHead + end + err);
    memcpy(buf.data(), k_.blob->data(), NewTable::kHead);
    char* to = buf.data() + NewTable::kHead;
    TableIndex& ix = known->index;
    ix.chains = ox.chains;
    ix.offsets.resize(rules);
    ix.entryIndex.resize(rules);
    ix.jumps.resize(rules);
    known->handles.resize(rules);
    uint32_t entry = 0, r = 0;
    // Old entries that go where they were, copied together.
    struct Run {
      const char* src;
      uint32_t at, len;
      bool Extends(const char* e, uint32_t o) const { return len && src + len == e && at + len == o; }
      void Flush(char* to) {
        if (len) memcpy(to + at, src, len);
        len = 0;
      }
    } run{nullptr, 0, 0};
    for (size_t c = 0; c < nc; c++) {
      ChainIndex& ci = ix.chains[c];
      if (ci.hook < 0) {
        memcpy(to + head[c], from + oldHead[c], err);
        entry++;
      }
      ci.first = r;
      ci.count = static_cast<uint32_t>(live_[c]);
      off = first[c];
      for (const Rule& x : rules_[c]) {
        if (!x.handle) continue;
        uint32_t size = fam_.nextOffset(x.entry);
        // An old entry that stays where it was, jumping to a chain that
        // stays where it was, is resolved already: such entries go in runs
        // (one copy each), the rest one by one.
        bool old = x.entry >= from && x.entry < from + oldEnd;
        if (old && static_cast<uint32_t>(x.entry - from) == off && (x.jump < 0 || first[x.jump] == oldFirst[x.jump])) {
          if (!run.Extends(x.entry, off)) {
            run.Flush(to);
            run = Run{x.entry, off, 0};
          }
          run.len += size;
        } else {
          run.Flush(to);
          memcpy(to + off, x.entry, size);
          if (!Resolve(to + off, off, size, x.jump, first)) return false;
        }
        ix.offsets[r] = off;
        ix.entryIndex[r] = entry++;
        ix.jumps[r] = x.jump;
        known->handles[r++] = x.handle;
        off += size;
      }
      memcpy(to + feet[c], from + oldFoot[c], foot);  // the policy (or RETURN) and its counters
      ci.footIndex = entry++;
    }
    run.Flush(to);
    memcpy(to + end, from + oldEnd, err);
    ix.numEntries = entry + 1;
    known->genid = genid;
    known->blob = std::make_shared<const Bytes>(std::move(buf));
    known->chains = k_.chains;
    out = std::move(known);
    return true;
  }

  // A standard target as legacy/build.cc leaves it: name zeroed, revision
  // 0, the verdict of a jump the first entry of its chain, of no target the
  // next entry; other targets' names zero-padded. (Old entries are so
  // already, but for where their jumps and fall-throughs now lead.)
  bool Resolve(char* e, uint32_t at, uint32_t size, int32_t jump, const std::vector<uint32_t>& first) const {
    auto* t = reinterpret_cast<xt_standard_target*>(e + fam_.targetOffset(e));
    char* name = t->target.u.user.name;
    int32_t verdict = 0;
    bool named = VerdictOf(name, &verdict);
    if (jump < 0 && !named && name[0] != '\0') {
      size_t len = strnlen(name, sizeof(t->target.u.user.name));
      memset(name + len, 0, sizeof(t->target.u.user.name) - len);
      return true;
    }
    if (t->target.u.target_size != XT_ALIGN(sizeof(xt_standard_target))) return false;
    if (jump >= 0) verdict = static_cast<int32_t>(first[jump]);
    else if (!named) verdict = t->verdict < 0 ? t->verdict : static_cast<int32_t>(at + size);
    memset(name, 0, sizeof(t->target.u.user.name));
    t->target.u.user.revision = 0;
    t->verdict = verdict;
    return true;
  }

 private:
  long ChainOf(const char* name) const {
    for (size_t c = 0; c < k_.index.chains.size(); c++)
      if (k_.index.chains[c].name == name) return static_cast<long>(c);
    return -1;
  }
  long Find(long c, uint64_t handle) const {
    if (!handle) return -1;
    const std::vector<Rule>& v = rules_[c];
    for (size_t i = 0; i < v.size(); i++)
      if (v[i].handle == handle) return static_cast<long>(i);
    return -1;
  }

  bool Delete(long c, uint64_t handle) {
    long at = Find(c, handle);
    if (at < 0) return false;
    rules_[c][at].handle = 0;  // (left out by Build: no memmove per deletion)
    gone_.push_back(handle);
    live_[c]--;
    return true;
  }

  // Where the kernel put the rule: it announces the handle of the rule
  // before it (NFTA_RULE_POSITION) unless the rule is first or last in the
  // chain as it was when announced (the batch's own later rules included,
  // its earlier deletions gone), and NLM_F_APPEND when it was asked to
  // append (or replace). Without a position and with rules in the chain,
  // first and last can only be told apart when nothing was deleted from the
  // chain earlier in the batch: then an append is last, an insert first.
  bool Add(long c, nftnl_rule* r, const nlmsghdr* nh, bool deletedBefore) {
    uint64_t handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
    // nf_tables numbers rules upwards, but a replaced rule's successor takes
    // its handle (announced as the old one's deletion, then the new rule).
    bool replaces = std::find(gone_.begin(), gone_.end(), handle) != gone_.end();
    if (handle <= top_ && !replaces) return false;  // not a new rule: this is not the table we know
    if (handle > top_) top_ = handle;
    NftDecoded d;
    DecodeNftRule(fam_, r, d);
    if (!d.error.empty()) return false;
    int32_t jump = -1;
    if (!d.jump.empty()) {
      long to = ChainOf(d.jump.c_str());
      if (to < 0 || k_.index.chains[to].hook >= 0) return false;
      jump = static_cast<int32_t>(to);
    }
    std::vector<Rule>& v = rules_[c];
    size_t at;
    if (nftnl_rule_is_set(r, NFTNL_RULE_POSITION)) {
      long prev = Find(c, nftnl_rule_get_u64(r, NFTNL_RULE_POSITION));
      if (prev < 0) return false;
      at = static_cast<size_t>(prev) + 1;
    } else if (live_[c] == 0) {
      at = v.size();
    } else if (deletedBefore) {
      return false;
    } else {
      at = (nh->nlmsg_flags & NLM_F_APPEND) ? v.size() : 0;
    }
    owned_.push_back(std::move(d.entry));
    v.insert(v.begin() + at, Rule{owned_.back().data(), jump, handle});
    live_[c]++;
    return true;
  }

  const Family& fam_;
  const NftKnownTable& k_;
  std::vector<std::vector<Rule>> rules_;  // per chain of k.index
  std::vector<size_t> live_;              // per chain: its rules not deleted
  uint64_t top_ = 0;                      // the highest handle seen
  std::vector<uint64_t> gone_;            // handles deleted in the batch being applied
  size_t announced_ = 0;
  std::deque<std::vector<char>> owned_;   // entries decoded from announcements
};

}  // namespace

bool ApplyNftBatches(const Family& fam, const std::string& table, const std::shared_ptr<const NftKnownTable>& k,
                     const std::vector<const NftEventBatch*>& batches, std::shared_ptr<const NftKnownTable>& out) {
  if (batches.empty()) {
    out = k;
    return true;
  }
  std::unique_ptr<Model> model;
  for (const NftEventBatch* b : batches) {
    std::vector<const nlmsghdr*> mine;
    for (const std::vector<char>& m : b->messages) {
      auto* nh = reinterpret_cast<const nlmsghdr*>(m.data());
      if (Ours(nh, fam, table)) mine.push_back(nh);
    }
    if (mine.empty()) continue;
    if (!model) model = std::make_unique<Model>(fam, *k);
    if (!model->Apply(mine)) return false;
  }
  uint32_t genid = batches.back()->genid;
  if (!model) {  // nothing of ours: the same table at a later generation
    auto same = std::make_shared<NftKnownTable>(*k);
    same->genid = genid;
    out = std::move(same);
    return true;
  }
  return model->Build(genid, out);
}

}  // namespace iptc
