#include "legacy/blob.h"

#include <string.h>

#include <unordered_map>

namespace iptc {

bool IsStandardTarget(const xt_entry_target* t) { return t->u.user.name[0] == '\0'; }
bool IsErrorTarget(const xt_entry_target* t) {
  return t->u.user.name[0] == 'E' && strcmp(t->u.user.name, XT_ERROR_TARGET) == 0;
}

namespace {

int32_t VerdictAt(const xt_entry_target* t) {
  int32_t v;
  memcpy(&v, t->data, sizeof(v));
  return v;
}

bool Bad(Failure& failure, const std::string& what) {
  failure.set("ERR_IPTC_DECODE", "the kernel's table cannot be read: " + what);
  return false;
}

}  // namespace

bool IndexTable(const Family& fam, const TableInfo& info, const char* entries, size_t size, TableIndex& out,
                Failure& failure) {
  out = TableIndex();
  // First pass: where every entry is, and that each is well formed.
  std::vector<uint32_t> at;
  at.reserve(info.numEntries);
  for (size_t off = 0; off < size;) {
    if (off + fam.headerSize > size) return Bad(failure, "an entry runs past the end");
    const char* e = entries + off;
    size_t next = fam.nextOffset(e), tOff = fam.targetOffset(e);
    if (next < fam.headerSize + sizeof(xt_entry_target) || off + next > size || tOff < fam.headerSize ||
        tOff + sizeof(xt_entry_target) > next)
      return Bad(failure, "an entry has impossible offsets");
    at.push_back(static_cast<uint32_t>(off));
    off += next;
  }
  out.numEntries = static_cast<uint32_t>(at.size());
  if (at.empty()) return Bad(failure, "it has no entries");
  // Second pass: chains. A built-in chain runs from its hook entry to its
  // underflow (the policy); a user chain from its ERROR head to the RETURN
  // just before the next ERROR entry.
  std::unordered_map<uint32_t, int32_t> chainAt;  // offset a jump lands on -> chain
  auto hookAt = [&](uint32_t i) {
    for (int h = 0; h < NF_INET_NUMHOOKS; h++)
      if ((info.validHooks & (1u << h)) && info.hookEntry[h] == at[i]) return h;
    return -1;
  };
  ChainIndex* cur = nullptr;
  bool inBuiltin = false;
  std::vector<uint32_t> ruleEntries;
  for (uint32_t i = 0; i < at.size(); i++) {
    const char* e = entries + at[i];
    const xt_entry_target* t = fam.target(e);
    int hook = hookAt(i);
    if (hook >= 0) {
      out.chains.push_back(ChainIndex());
      cur = &out.chains.back();
      cur->name = kHookNames[hook];
      cur->hook = hook;
      cur->first = static_cast<uint32_t>(ruleEntries.size());
      inBuiltin = true;
    } else if (IsErrorTarget(t) && !inBuiltin) {
      if (i + 1 == at.size()) break;  // the table's closing ERROR entry
      const auto* err = reinterpret_cast<const xt_error_target*>(t);
      out.chains.push_back(ChainIndex());
      cur = &out.chains.back();
      cur->name.assign(err->errorname, strnlen(err->errorname, sizeof(err->errorname)));
      cur->first = static_cast<uint32_t>(ruleEntries.size());
      chainAt[at[i] + fam.nextOffset(e)] = static_cast<int32_t>(out.chains.size() - 1);
      continue;
    }
    if (!cur) return Bad(failure, "an entry before the first chain");
    bool foot = inBuiltin ? at[i] == info.underflow[cur->hook]
                          : i + 1 < at.size() && (IsErrorTarget(fam.target(entries + at[i + 1])) || hookAt(i + 1) >= 0);
    if (foot) {
      if (!IsStandardTarget(t)) return Bad(failure, "chain " + cur->name + " does not end with a verdict");
      cur->policy = VerdictAt(t);
      cur->policyCounters = fam.counters(e);
      cur->footIndex = i;
      inBuiltin = false;
      continue;
    }
    ruleEntries.push_back(i);
    cur->count++;
  }
  // Third pass: rules, with their jumps resolved to chains.
  size_t n = ruleEntries.size();
  out.offsets.resize(n);
  out.entryIndex.resize(n);
  out.jumps.assign(n, -1);
  for (size_t r = 0; r < n; r++) {
    uint32_t i = ruleEntries[r];
    const char* e = entries + at[i];
    out.offsets[r] = at[i];
    out.entryIndex[r] = i;
    const xt_entry_target* t = fam.target(e);
    if (!IsStandardTarget(t)) continue;
    int32_t v = VerdictAt(t);
    if (v < 0 || static_cast<uint32_t>(v) == at[i] + fam.nextOffset(e)) continue;  // a verdict, or no target
    auto c = chainAt.find(static_cast<uint32_t>(v));
    if (c == chainAt.end()) return Bad(failure, "a rule jumps to offset " + std::to_string(v) + ", which starts no chain");
    out.jumps[r] = c->second;
  }
  return true;
}

bool IsPristine(const TableIndex& t) {
  for (const ChainIndex& c : t.chains)
    if (c.hook < 0 || c.count > 0 || c.policy != kVerdictAccept) return false;
  return true;
}

bool SameTable(const Family& fam, const char* a, size_t asize, const char* b, size_t bsize) {
  if (asize != bsize) return false;
  for (size_t off = 0; off < asize;) {
    const char* ea = a + off;
    const char* eb = b + off;
    size_t next = fam.nextOffset(ea);
    if (next < fam.headerSize || next != fam.nextOffset(eb) || off + next > asize) return false;
    if (memcmp(ea, eb, fam.comefromAt) != 0) return false;
    size_t tail = fam.countersAt + sizeof(xt_counters);
    if (memcmp(ea + tail, eb + tail, next - tail) != 0) return false;
    off += next;
  }
  return true;
}

uint64_t DigestBytes(const void* p, size_t n, uint64_t h) {
  // FNV-1a over 8-byte words, then the tail: cheap and good enough to tell
  // one rule from another.
  const unsigned char* b = static_cast<const unsigned char*>(p);
  const uint64_t prime = 0x100000001b3ULL;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    h = (h ^ w) * prime;
    h ^= h >> 29;
  }
  for (; i < n; i++) h = (h ^ b[i]) * prime;
  return h;
}

uint64_t DigestEntry(const Family& fam, const void* entry, uint64_t h) {
  // The header up to the counters, then each match by size, name, revision
  // and data (a name's bytes after its NUL are not the table's).
  const char* e = static_cast<const char*>(entry);
  h = DigestBytes(e, fam.headerSize - sizeof(xt_counters), h);
  size_t next = fam.nextOffset(entry);
  for (size_t off = fam.headerSize; off + sizeof(xt_entry_match) <= next;) {
    const auto* m = reinterpret_cast<const xt_entry_match*>(e + off);
    size_t size = m->u.match_size;
    if (size < sizeof(xt_entry_match) || off + size > next) break;
    h = DigestBytes(&m->u.match_size, sizeof(m->u.match_size), h);
    h = DigestBytes(m->u.user.name, strnlen(m->u.user.name, sizeof(m->u.user.name)), h);
    h = DigestBytes(&m->u.user.revision, 1, h);
    h = DigestBytes(m->data, size - sizeof(xt_entry_match), h);
    off += size;
  }
  return h;
}

}  // namespace iptc
