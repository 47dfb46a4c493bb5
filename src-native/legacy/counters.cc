#include "legacy/counters.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/netns.h"
#include "common/worker.h"
#include "legacy/blob.h"
#include "legacy/kernel.h"

namespace iptc {

namespace {


// ipt_getinfo and ip6t_getinfo, ipt_get_entries and ip6t_get_entries have the
// same layout; only the socket level differs.
struct GetInfo {
  char name[XT_TABLE_MAXNAMELEN];
  unsigned valid_hooks;
  unsigned hook_entry[5];
  unsigned underflow[5];
  unsigned num_entries;
  unsigned size;
};
struct GetEntriesHead {
  char name[XT_TABLE_MAXNAMELEN];
  unsigned size;
};
// The entries start 8-byte aligned after the head.
constexpr size_t kHead = offsetof(ipt_get_entries, entrytable);
static_assert(kHead == offsetof(ip6t_get_entries, entrytable), "ipv4 and ipv6 heads differ");

int Level(const Family& f) { return f.level; }

const xt_entry_target* TargetOf(const Family& f, const char* e) { return f.target(e); }

bool IsError(const xt_entry_target* t) { return IsErrorTarget(t); }

// A rule's key: the digest of its entry, but a jump (or goto) is digested by
// the name of the chain it goes to and a rule without a target by "falls
// through", not by the offsets their verdicts hold: those move whenever rules
// are added in front, and a key must not (a Prometheus series follows it).
uint64_t RuleKey(const Family& fam, const char* e, unsigned rel, size_t size,
                 const std::unordered_map<unsigned, std::string>& chainAt, uint64_t seed) {
  const xt_entry_target* t = TargetOf(fam, e);
  if (t->u.user.name[0] != '\0' || t->u.target_size < sizeof(xt_standard_target)) return DigestEntry(fam, e, seed);
  int verdict;
  size_t at = reinterpret_cast<const char*>(t) - e + offsetof(xt_standard_target, verdict);
  memcpy(&verdict, e + at, sizeof verdict);
  if (verdict < 0) return DigestEntry(fam, e, seed);
  std::vector<char> copy(e, e + size);
  int zero = 0;
  memcpy(copy.data() + at, &zero, sizeof zero);
  uint64_t h = DigestEntry(fam, copy.data(), seed);
  auto chain = chainAt.find(static_cast<unsigned>(verdict));
  if (chain != chainAt.end()) return DigestBytes(chain->second.data(), chain->second.size(), h);
  return static_cast<unsigned>(verdict) == rel + size ? DigestBytes("\n", 1, h) : DigestBytes(&verdict, sizeof verdict, h);
}

class PollJob : public Job {
 public:
  PollJob(CounterReader* r, Napi::Object self) : reader_(r), self_(Napi::Persistent(self)) {}
  void Run() override { reader_->Poll(*counters_, changed_, failure); }
  Napi::Value Result(Napi::Env env) override {
    reader_->done();
    Napi::Object o = Napi::Object::New(env);
    // The array JavaScript gets is the vector the kernel's counters were
    // copied into: no second copy; it is freed when the array is collected.
    auto* v = counters_.release();
    size_t n = v->size();
    Napi::ArrayBuffer ab = n == 0 ? Napi::ArrayBuffer::New(env, 0)
                                  : Napi::ArrayBuffer::New(env, v->data(), n * sizeof(uint64_t),
                                                           [](Napi::Env, void*, std::vector<uint64_t>* p) { delete p; }, v);
    if (n == 0) delete v;
    o.Set("counters", Napi::TypedArrayOf<uint64_t>::New(env, n, ab, 0, napi_biguint64_array));
    // The layout crosses only when JavaScript has not seen this version yet.
    if (reader_->TakeNewLayout()) o.Set("layout", LayoutToJs(env, reader_->layout()));
    return o;
  }
  ~PollJob() override {
    if (failure.failed()) reader_->done();
  }

 private:
  CounterReader* reader_;
  Napi::ObjectReference self_;  // keeps the reader alive while the poll runs
  std::unique_ptr<std::vector<uint64_t>> counters_ = std::make_unique<std::vector<uint64_t>>();
  bool changed_ = false;
};

}  // namespace

Napi::Function CounterReader::Define(Napi::Env env) {
  return DefineClass(env, "CounterReader",
                     {InstanceMethod<&CounterReader::Read>("read"), InstanceMethod<&CounterReader::Close>("close")});
}

// new CounterReader(family, table, netnsFd)
CounterReader::CounterReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CounterReader>(info) {
  Napi::Env env = info.Env();
  fam_ = &FamilyFor(info[0].As<Napi::String>());
  table_ = info[1].As<Napi::String>();
  int netns = info[2].As<Napi::Number>().Int32Value();
  Failure f;
  // The socket belongs to the namespace it was made in: make it there once,
  // and every later read needs no namespace switch at all.
  RunInNetns(netns, f, [&] {
    // Reading would instantiate a missing table: refuse instead.
    int exists = TableExists(*fam_, table_);
    if (exists <= 0) {
      if (exists < 0) f.set("ERR_IPTC_NO_LEGACY", NoLegacyMessage(*fam_), ENOPROTOOPT);
      else f.set("ERR_IPTC_ABSENT", "there is no table '" + table_ + "' in this namespace (yet)", ENOENT);
      return;
    }
    fd_ = socket(fam_->nfproto == NFPROTO_IPV4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd_ < 0) {
      int e = errno;
      f.fromErrno(e, "socket", std::string("cannot open a raw socket: ") + strerror(e) +
                                   (e == EPERM ? " (needs CAP_NET_RAW and CAP_NET_ADMIN: run as root)" : ""));
    }
  });
  if (f.failed()) Throw(env, f);
  // Read once now, so a missing table or privilege is an error here.
  std::vector<uint64_t> c;
  bool changed;
  Poll(c, changed, f);
  if (f.failed()) {
    close(fd_);
    fd_ = -1;
    Throw(env, f);
  }
}

CounterReader::~CounterReader() {
  if (fd_ >= 0) close(fd_);
}

bool CounterReader::Fetch(std::vector<char>& buf, Failure& failure) {
  for (int attempt = 0; attempt < 10; attempt++) {
    GetInfo info{};
    strncpy(info.name, table_.c_str(), sizeof(info.name) - 1);
    socklen_t len = sizeof(info);
    if (getsockopt(fd_, Level(*fam_), IPT_SO_GET_INFO, &info, &len) != 0) {
      int e = errno;
      failure.fromErrno(e, "getsockopt", "cannot read the counters of table '" + table_ + "': " + strerror(e) +
                                             (e == EPERM ? " (needs CAP_NET_ADMIN)" : ""));
      return false;
    }
    if (buf.size() < kHead + info.size) buf.assign(kHead + info.size, 0);
    auto* head = reinterpret_cast<GetEntriesHead*>(buf.data());
    memcpy(head->name, info.name, sizeof(head->name));
    head->size = info.size;
    len = kHead + info.size;
    if (getsockopt(fd_, Level(*fam_), IPT_SO_GET_ENTRIES, buf.data(), &len) != 0) {
      if (errno == EAGAIN) continue;  // the table changed between the two calls
      int e = errno;
      failure.fromErrno(e, "getsockopt", "cannot read the counters of table '" + table_ + "': " + strerror(e));
      return false;
    }
    buf.resize(kHead + info.size);
    validHooks_ = info.valid_hooks;
    memcpy(hookEntry_, info.hook_entry, sizeof(hookEntry_));
    memcpy(underflow_, info.underflow, sizeof(underflow_));
    return true;
  }
  failure.set("EAGAIN", "table '" + table_ + "' kept changing while being read", EAGAIN, "getsockopt");
  return false;
}

// One pass over the new read: compare it with the previous one (all but the
// counters) and copy the counters of the known slots while the bytes are hot
// in the cache. Returns false as soon as the rules differ.
bool CounterReader::SameRulesCopying(const std::vector<char>& a, const std::vector<char>& b,
                                     std::vector<uint64_t>& counters) const {
  if (a.size() != b.size()) return false;
  size_t countersAt = fam_->headerSize - sizeof(xt_counters);
  const std::vector<uint32_t>& slots = layout_.offsets;
  counters.resize(slots.size() * 2);
  size_t slot = 0;
  for (size_t off = kHead; off < a.size();) {
    const char* ea = a.data() + off;
    const char* eb = b.data() + off;
    size_t next = fam_->nextOffset(ea);
    if (next == 0 || next != fam_->nextOffset(eb) || off + next > a.size()) return false;
    if (memcmp(ea, eb, countersAt) != 0) return false;
    if (memcmp(ea + fam_->headerSize, eb + fam_->headerSize, next - fam_->headerSize) != 0) return false;
    if (slot < slots.size() && slots[slot] == off) {
      xt_counters k = fam_->counters(ea);
      counters[2 * slot] = k.pcnt;
      counters[2 * slot + 1] = k.bcnt;
      slot++;
    }
    off += next;
  }
  return slot == slots.size();
}

void CounterReader::BuildLayout(const std::vector<char>& buf) {
  CounterLayout l;
  l.version = layout_.version + 1;
  // Where each user chain's rules start (what a jump to it holds), and its name.
  std::unordered_map<unsigned, std::string> chainAt;
  for (size_t off = kHead; off < buf.size();) {
    const char* e = buf.data() + off;
    size_t next = fam_->nextOffset(e);
    if (next == 0) break;
    const xt_entry_target* t = TargetOf(*fam_, e);
    if (IsError(t) && off + next < buf.size()) chainAt[static_cast<unsigned>(off + next - kHead)] = reinterpret_cast<const xt_error_target*>(t)->errorname;
    off += next;
  }
  CounterLayout::Chain* cur = nullptr;
  uint32_t slot = 0;
  for (size_t off = kHead; off < buf.size();) {
    const char* e = buf.data() + off;
    unsigned rel = static_cast<unsigned>(off - kHead);
    size_t next = fam_->nextOffset(e);
    if (next == 0) break;
    const xt_entry_target* t = TargetOf(*fam_, e);
    bool started = false;
    for (int h = 0; h < 5; h++) {
      if ((validHooks_ & (1u << h)) && hookEntry_[h] == rel) {
        l.chains.push_back({kHookNames[h], true, slot, 0, -1});
        started = true;
      }
    }
    if (!started && IsError(t)) {
      const char* name = reinterpret_cast<const xt_error_target*>(t)->errorname;
      if (off + next >= buf.size()) break;  // the table's closing ERROR entry
      l.chains.push_back({name, false, slot, 0, -1});
      cur = &l.chains.back();
      off += next;
      continue;  // a user chain's head is no rule
    }
    cur = &l.chains.back();
    bool policy = false;
    for (int h = 0; h < 5; h++)
      if ((validHooks_ & (1u << h)) && underflow_[h] == rel) policy = true;
    // A user chain ends with an implicit RETURN just before the next head.
    bool tail = !cur->builtin && off + next < buf.size() && IsError(TargetOf(*fam_, e + next));
    if (policy) {
      cur->policy = static_cast<int32_t>(slot);
      l.keys.push_back(DigestBytes(cur->name.c_str(), cur->name.size(), 0x9e3779b97f4a7c15ULL));
      l.offsets.push_back(static_cast<uint32_t>(off));
      slot++;
    } else if (!tail) {
      cur->count++;
      // Seeded with the chain's name: equal rules in two chains differ.
      l.keys.push_back(RuleKey(*fam_, e, rel, next, chainAt, DigestBytes(cur->name.c_str(), cur->name.size(), 0xcbf29ce484222325ULL)));
      l.offsets.push_back(static_cast<uint32_t>(off));
      slot++;
    }
    off += next;
  }
  layout_ = std::move(l);
}

void CounterReader::Poll(std::vector<uint64_t>& counters, bool& changed, Failure& failure) {
  if (fd_ < 0) {
    failure.set("ERR_IPTC_CLOSED", "this counter reader is closed");
    return;
  }
  int next = cur_ < 0 ? 0 : 1 - cur_;
  if (!Fetch(bufs_[next], failure)) return;
  changed = cur_ < 0 || !SameRulesCopying(bufs_[next], bufs_[cur_], counters);
  cur_ = next;
  if (!changed) return;
  const std::vector<char>& buf = bufs_[cur_];
  BuildLayout(buf);
  counters.resize(layout_.offsets.size() * 2);
  for (size_t i = 0; i < layout_.offsets.size(); i++) {
    xt_counters k = fam_->counters(buf.data() + layout_.offsets[i]);
    counters[2 * i] = k.pcnt;
    counters[2 * i + 1] = k.bcnt;
  }
}

Napi::Value CounterReader::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) {
    Failure f;
    f.set("ERR_IPTC_BUSY", "a read of this counter reader is already running");
    Throw(env, f);
  }
  busy_ = true;
  auto job = std::make_unique<PollJob>(this, info.This().As<Napi::Object>());
  return RunJob(env, std::move(job), info[0].ToBoolean());
}

Napi::Value CounterReader::Close(const Napi::CallbackInfo& info) {
  if (fd_ >= 0 && !busy_) {
    close(fd_);
    fd_ = -1;
  }
  return info.Env().Undefined();
}

Napi::Object LayoutToJs(Napi::Env env, const CounterLayout& l) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", l.version);
  Napi::Array chains = Napi::Array::New(env, l.chains.size());
  for (size_t i = 0; i < l.chains.size(); i++) {
    const auto& c = l.chains[i];
    Napi::Object co = Napi::Object::New(env);
    co.Set("name", c.name);
    co.Set("builtin", c.builtin);
    co.Set("first", c.first);
    co.Set("count", c.count);
    co.Set("policy", c.policy);
    chains[i] = co;
  }
  o.Set("chains", chains);
  auto ab = Napi::ArrayBuffer::New(env, l.keys.size() * sizeof(uint64_t));
  if (!l.keys.empty()) memcpy(ab.Data(), l.keys.data(), l.keys.size() * sizeof(uint64_t));
  o.Set("keys", Napi::TypedArrayOf<uint64_t>::New(env, l.keys.size(), ab, 0, napi_biguint64_array));
  return o;
}

}  // namespace iptc
