#include "legacy/build.h"

#include <string.h>

#include "legacy/blob.h"

namespace iptc {

namespace {

void WriteHeader(const Family& fam, char* e, unsigned size) {
  memset(e, 0, size);
  uint16_t t = static_cast<uint16_t>(fam.headerSize), n = static_cast<uint16_t>(size);
  memcpy(e + fam.targetOffsetAt, &t, sizeof(t));
  memcpy(e + fam.nextOffsetAt, &n, sizeof(n));
}

void WriteError(const Family& fam, char* e, const std::string& name) {
  WriteHeader(fam, e, ErrorEntrySize(fam));
  auto* t = reinterpret_cast<xt_error_target*>(e + fam.headerSize);
  t->target.u.user.target_size = XT_ALIGN(sizeof(xt_error_target));
  strcpy(t->target.u.user.name, XT_ERROR_TARGET);
  strncpy(t->errorname, name.c_str(), XT_FUNCTION_MAXNAMELEN - 1);
}

void WriteVerdict(const Family& fam, char* e, int32_t verdict, const xt_counters& c) {
  WriteHeader(fam, e, StandardEntrySize(fam));
  fam.setCounters(e, c);
  auto* t = reinterpret_cast<xt_standard_target*>(e + fam.headerSize);
  t->target.u.user.target_size = XT_ALIGN(sizeof(xt_standard_target));
  t->verdict = verdict;
}

}  // namespace

bool BuildTable(const Family& fam, const Plan& plan, NewTable& out, std::vector<CounterSource>& counterMap,
                Failure& failure, TableIndex* where) {
  const std::vector<PlanChain>& chains = plan.chains;
  const std::vector<PlanRule>& rules = plan.rules;
  std::vector<const char*> entry(rules.size());
  for (size_t i = 0; i < rules.size(); i++) {
    entry[i] = plan.Entry(fam, rules[i]);
    if (!entry[i]) {
      failure.set("ERR_IPTC_ARGUMENT", "the plan names an entry that is not there");
      failure.index = static_cast<int>(i);
      return false;
    }
  }
  // First pass: where every chain and rule goes.
  std::vector<uint32_t> head(chains.size()), foot(chains.size()), ruleAt(rules.size());
  size_t off = 0, r = 0;
  unsigned n = 0;
  for (size_t c = 0; c < chains.size(); c++) {
    head[c] = static_cast<uint32_t>(off);
    if (chains[c].hook < 0) {
      off += ErrorEntrySize(fam);
      n++;
    }
    for (uint32_t k = 0; k < chains[c].count; k++, r++) {
      if (r >= rules.size()) {
        failure.set("ERR_IPTC_ARGUMENT", "the plan lists more rules than it holds");
        return false;
      }
      ruleAt[r] = static_cast<uint32_t>(off);
      off += fam.nextOffset(entry[r]);
      n++;
    }
    foot[c] = static_cast<uint32_t>(off);
    off += StandardEntrySize(fam);
    n++;
  }
  off += ErrorEntrySize(fam);
  n++;
  if (r != rules.size() || off > 0xffffffffu) {
    failure.set("ERR_IPTC_ARGUMENT", "the plan's rule counts do not add up");
    return false;
  }
  // Every byte is written below: rules copied whole, and the chain heads
  // and feet zeroed first (padding is zero everywhere, as libiptc leaves it).
  out.buf.resize(NewTable::kHead + off);
  memset(out.buf.data(), 0, NewTable::kHead);
  out.numEntries = n;
  counterMap.assign(n, CounterSource());
  memset(out.hookEntry, 0, sizeof(out.hookEntry));
  memset(out.underflow, 0, sizeof(out.underflow));

  if (where) {
    *where = TableIndex();
    where->numEntries = n;
    where->chains.resize(chains.size());
    where->offsets.assign(ruleAt.begin(), ruleAt.end());
    where->entryIndex.resize(rules.size());
    where->jumps.resize(rules.size());
  }
  // Second pass: copy and resolve.
  char* base = out.entries();
  unsigned index = 0;
  r = 0;
  for (size_t c = 0; c < chains.size(); c++) {
    const PlanChain& ch = chains[c];
    if (where) {
      ChainIndex& ci = where->chains[c];
      ci.name = ch.hook < 0 ? ch.name.substr(0, XT_FUNCTION_MAXNAMELEN - 1) : kHookNames[ch.hook];
      ci.hook = ch.hook;
      ci.policy = ch.hook < 0 ? kVerdictReturn : ch.policy;
      if (ch.hook >= 0) ci.policyCounters = ch.policyCounters;
      ci.first = static_cast<uint32_t>(r);
      ci.count = ch.count;
      ci.footIndex = index + (ch.hook < 0 ? 1 : 0) + ch.count;
    }
    if (ch.hook < 0) {
      WriteError(fam, base + head[c], ch.name);
      index++;
    } else {
      out.hookEntry[ch.hook] = head[c];
      out.underflow[ch.hook] = foot[c];
    }
    for (uint32_t k = 0; k < ch.count; k++, r++, index++) {
      const PlanRule& rule = rules[r];
      char* e = base + ruleAt[r];
      size_t size = fam.nextOffset(entry[r]);
      memcpy(e, entry[r], size);
      auto* t = reinterpret_cast<xt_standard_target*>(e + fam.targetOffset(e));
      const char* name = t->target.u.user.name;
      int32_t verdict;
      bool named = VerdictOf(name, &verdict);
      if (rule.jump >= 0 || named || name[0] == '\0') {
        if (t->target.u.target_size != XT_ALIGN(sizeof(xt_standard_target))) {
          failure.set("ERR_IPTC_ARGUMENT", "a rule's standard target has the wrong size");
          failure.index = static_cast<int>(r);
          return false;
        }
        if (rule.jump >= 0) {
          if (static_cast<size_t>(rule.jump) >= chains.size() || chains[rule.jump].hook >= 0) {
            failure.set("ERR_IPTC_ARGUMENT", "a rule jumps to a built-in chain, which the kernel does not allow", EINVAL);
            failure.index = static_cast<int>(r);
            return false;
          }
          verdict = static_cast<int32_t>(head[rule.jump] + ErrorEntrySize(fam));
        } else if (!named) {
          // As read: a verdict stays; a rule with no target falls through to the next entry.
          verdict = t->verdict < 0 ? t->verdict : static_cast<int32_t>(ruleAt[r] + size);
        }
        memset(t->target.u.user.name, 0, sizeof(t->target.u.user.name));
        t->target.u.user.revision = 0;
        t->verdict = verdict;
      } else {
        size_t len = strnlen(name, sizeof(t->target.u.user.name));
        memset(t->target.u.user.name + len, 0, sizeof(t->target.u.user.name) - len);
      }
      CounterSource& s = counterMap[index];
      s.mode = rule.mode;
      s.oldIndex = rule.oldIndex;
      s.counters = fam.counters(e);
      if (where) {
        where->entryIndex[r] = index;
        where->jumps[r] = rule.jump;
      }
    }
    // User chains end with RETURN; their counters are not carried over (as libiptc).
    WriteVerdict(fam, base + foot[c], ch.hook < 0 ? kVerdictReturn : ch.policy, ch.hook < 0 ? xt_counters{} : ch.policyCounters);
    if (ch.hook >= 0) {
      CounterSource& s = counterMap[index];
      s.mode = ch.policyMode;
      s.counters = ch.policyCounters;
      if ((s.mode == kCountersKept || s.mode == kCountersSinceRead) && ch.oldFoot < 0) s.mode = kCountersZero;
      s.oldIndex = ch.oldFoot < 0 ? 0 : static_cast<uint32_t>(ch.oldFoot);
    }
    index++;
  }
  WriteError(fam, base + off - ErrorEntrySize(fam), "ERROR");
  return true;
}

std::vector<xt_counters> MapCounters(const std::vector<CounterSource>& map, const std::vector<xt_counters>& old) {
  std::vector<xt_counters> out(map.size());
  for (size_t i = 0; i < map.size(); i++) {
    const CounterSource& s = map[i];
    switch (s.mode) {
      case kCountersKept:
        if (s.oldIndex < old.size()) out[i] = old[s.oldIndex];
        break;
      case kCountersSinceRead:
        if (s.oldIndex < old.size()) {
          out[i].pcnt = old[s.oldIndex].pcnt - s.counters.pcnt;
          out[i].bcnt = old[s.oldIndex].bcnt - s.counters.bcnt;
        }
        break;
      case kCountersSet: out[i] = s.counters; break;
      default: break;
    }
  }
  return out;
}

bool LayOut(const Family& fam, const Plan& plan, NewTable& out, TableInfo& info, TableIndex& index, Failure& failure) {
  std::vector<CounterSource> counterMap;
  if (!BuildTable(fam, plan, out, counterMap, failure, &index)) return false;
  info = TableInfo();
  for (const PlanChain& c : plan.chains)
    if (c.hook >= 0) info.validHooks |= 1u << c.hook;
  memcpy(info.hookEntry, out.hookEntry, sizeof(info.hookEntry));
  memcpy(info.underflow, out.underflow, sizeof(info.underflow));
  info.numEntries = out.numEntries;
  info.size = static_cast<unsigned>(out.size());
  return true;
}

}  // namespace iptc
