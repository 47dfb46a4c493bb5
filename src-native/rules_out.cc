#include "rules_out.h"

#include <string.h>

namespace iptc {

RulesOut::Capture::Capture(RulesOut& out, Failure& failure) : out_(out) {
  char err[XTG_ERRLEN];
  ok_ = xtg_describe_begin(err, sizeof(err)) == 0;
  if (!ok_) failure.set("ERR_IPTC_DECODE", err);
}

RulesOut::Capture::~Capture() {
  if (!ok_) return;
  xtg_buf_free(&out_.text);
  xtg_describe_end(&out_.text);
}

bool RulesOut::Add(const Family& fam, const void* entry, const char* targetName, Failure& failure) {
  char err[XTG_ERRLEN];
  int isExtension = 0;
  int n = xtg_describe_entry(fam.nfproto, entry, targetName, &isExtension, err, sizeof(err));
  if (n < 0) {
    failure.set("ERR_IPTC_DECODE", err);
    return false;
  }
  ip.append(static_cast<const char*>(entry), fam.ipSize);
  xt_counters c = fam.counters(entry);
  counters.push_back(c.pcnt);
  counters.push_back(c.bcnt);
  matchCounts.push_back(static_cast<uint32_t>(n));
  targetKinds.push_back(static_cast<uint8_t>(isExtension));
  count++;
  return true;
}

void RulesOut::Fill(Napi::Env env, Napi::Object o) const {
  o.Set("ip", Napi::Buffer<char>::Copy(env, ip.data(), ip.size()));
  auto ab = Napi::ArrayBuffer::New(env, counters.size() * sizeof(uint64_t));
  if (!counters.empty()) memcpy(ab.Data(), counters.data(), counters.size() * sizeof(uint64_t));
  o.Set("counters", Napi::TypedArrayOf<uint64_t>::New(env, counters.size(), ab, 0, napi_biguint64_array));
  auto mc = Napi::Uint32Array::New(env, matchCounts.size());
  if (!matchCounts.empty()) memcpy(mc.Data(), matchCounts.data(), matchCounts.size() * sizeof(uint32_t));
  o.Set("matchCounts", mc);
  auto tk = Napi::Uint8Array::New(env, targetKinds.size());
  if (!targetKinds.empty()) memcpy(tk.Data(), targetKinds.data(), targetKinds.size());
  o.Set("targetKinds", tk);
  o.Set("text", Napi::String::New(env, text.data ? text.data : "", text.len));
}

uint64_t DigestBytes(const void* p, size_t n, uint64_t h) {
  // FNV-1a over 8-byte words, then the tail: cheap and good enough to tell
  // "same table" from "changed table".
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
  // The header up to the counters, then each match and the target by size,
  // name and revision and data. Not the raw bytes: the kernel writes only a
  // name's string into the read buffer, and libiptc's buffer holds leftover
  // heap bytes after it, different from one read to the next.
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
