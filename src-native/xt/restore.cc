#include "xt/restore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/worker.h"
#include "xt/family.h"
#include "xt/parse.h"
#include "xt/xt_glue.h"
#include "xt/xtables.h"

namespace iptc {

namespace {

enum OpKind : uint32_t { kChain = 1, kAppend = 2, kCommand = 3 };

// iptables-restore's limits: a word of at most 1023 bytes, fewer than 255
// arguments on a line (its own four included).
constexpr size_t kMaxWord = 1023;
constexpr size_t kMaxArgs = 254 - 4;

struct Op {
  uint32_t kind, line;
  int32_t chain = -1, jump = -1;
  uint32_t first = 0, count = 0;
  int32_t arg = -1;
  uint32_t hasCounters = 0;
  uint64_t pcnt = 0, bcnt = 0;
};

struct Block {
  std::string table;
  uint32_t line, firstOp, opCount = 0;
};

bool Fail(Failure& f, uint32_t line, const std::string& msg) {
  f.set("ERR_IPTC_PARSE", "line " + std::to_string(line) + ": " + msg);
  f.line = static_cast<int>(line);
  return false;
}

// Words as iptables-restore's add_param_to_argv splits a line: blanks
// separate, double quotes group (a backslash escapes inside them), a closing
// quote ends a word (an empty one too).
bool SplitWords(const char* p, const char* end, std::vector<std::string>& out, uint32_t line, Failure& f) {
  size_t n = 0;  // words in `out` so far (its strings are reused)
  bool escaped = false, open = false, started = false;
  auto word = [&]() -> std::string& {
    if (n == out.size()) out.emplace_back();
    if (!started) {
      out[n].clear();
      started = true;
    }
    return out[n];
  };
  auto add = [&](char c) {
    std::string& w = word();
    if (w.size() >= kMaxWord) return Fail(f, line, "parameter too long (at most 1023 characters)");
    w += c;
    return true;
  };
  auto emit = [&]() {
    word();
    n++;
    started = false;
  };
  // The line is split with its newline, as iptables-restore reads it: a quote
  // left open takes the newline into its word.
  for (const char* q = p;; q++) {
    if (!open && q < end) {
      // A run of plain characters is taken at once.
      const char* r = q;
      while (r < end && *r != ' ' && *r != '\t' && *r != '"' && *r != '\n') r++;
      if (r > q) {
        std::string& w = word();
        if (w.size() + (r - q) > kMaxWord) return Fail(f, line, "parameter too long (at most 1023 characters)");
        w.append(q, r - q);
        q = r;
      }
    }
    char c = q < end ? *q : '\n';
    if (open) {
      if (escaped) {
        escaped = false;
        if (!add(c)) return false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c != '"') {
        if (!add(c)) return false;
      } else {
        open = false;
        emit();  // a closing quote ends the word, even an empty one
      }
    } else if (c == '"') {
      open = true;
      word();
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (started && !out[n].empty()) emit();
      else started = false;
    } else if (!add(c)) {
      return false;
    }
    if (q >= end) break;
  }
  if (started && !out[n].empty()) n++;
  out.resize(n);
  return true;
}

// "[%llu:%llu]" as sscanf reads it (blanks before each number allowed).
bool ParseCounters(const char* s, uint64_t& p, uint64_t& b) {
  if (*s++ != '[') return false;
  char* end;
  errno = 0;
  p = strtoull(s, &end, 10);
  if (end == s || *end != ':' || errno) return false;
  s = end + 1;
  b = strtoull(s, &end, 10);
  return end != s && !errno;
}

// A rule line's counters as --set-counters takes them: whole numbers.
bool Number(const std::string& s, uint64_t& v) {
  const char* p = s.c_str();
  while (*p == ' ' || *p == '\t') p++;
  if (*p < '0' || *p > '9') return false;
  char* end;
  errno = 0;
  v = strtoull(p, &end, 10);
  return *end == '\0' && !errno;
}

// The next blank-separated token, as strtok(" \t\n") gives it.
std::string Token(const char*& p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  const char* s = p;
  while (p < end && *p != ' ' && *p != '\t') p++;
  return std::string(s, p);
}

class Compiler {
 public:
  Compiler(const Family& fam, bool counters, bool noflush, std::string only)
      : fam_(fam), counters_(counters), noflush_(noflush), only_(std::move(only)) {}

  std::vector<Block> blocks;
  std::vector<std::string> names;
  std::vector<Op> ops;
  ParsedRules parsed;

  // Reads the whole input. A bad line inside a block ends the blocks there
  // (the ones before it stand, as iptables-restore commits each at its
  // COMMIT); the rest is still read for its framing, and a framing error
  // anywhere (a NUL byte, a line outside a block, a missing COMMIT) leaves
  // no block standing at all.
  bool Run(const std::string& text, Failure& f) {
    XtGuard guard(f);
    if (!guard.ok()) return false;
    // Entries take a few times the text's size: reserved once (pages are
    // only touched as they fill), never moved while growing.
    parsed.bytes.reserve(text.size() * 8 + 4096);
    parsed.offsets.reserve(text.size() / 32 + 16);
    ops.reserve(text.size() / 32 + 16);
    const char* p = text.data();
    const char* end = p + text.size();
    uint32_t line = 0;
    Block* cur = nullptr;
    bool inBlock = false, skipping = false, framingOnly = false;
    Failure lineError;
    auto framing = [&](uint32_t at, const std::string& msg) {
      blocks.clear();
      ops.clear();
      return Fail(f, at, msg);
    };
    while (p < end) {
      const char* nl = static_cast<const char*>(memchr(p, '\n', end - p));
      const char* le = nl ? nl : end;
      line++;
      std::string_view l(p, le - p);
      p = nl ? nl + 1 : end;
      if (l.empty() || l[0] == '#') continue;
      if (l.find('\0') != std::string_view::npos) return framing(line, "NUL byte in input");
      if (l == "COMMIT" && (inBlock || skipping)) {
        cur = nullptr;
        inBlock = skipping = false;
        continue;
      }
      if (l[0] == '*' && !inBlock && !skipping) {
        const char* t = l.data() + 1;
        std::string table = Token(t, l.data() + l.size());
        if (table.empty()) return framing(line, "table name invalid");
        if (!only_.empty() && table != only_) {
          skipping = true;  // iptables-restore -T: the other tables' lines are not read
          continue;
        }
        inBlock = true;
        if (framingOnly) continue;
        blocks.push_back(Block{table, line, static_cast<uint32_t>(ops.size())});
        cur = &blocks.back();
        declared_.clear();
        continue;
      }
      if (skipping) continue;
      if (!inBlock) return framing(line, "expected a *table line first, got \"" + std::string(l.substr(0, 60)) + "\"");
      if (framingOnly) continue;
      merged_ = false;
      if (!(l[0] == ':' ? Chain(*cur, l, line, f) : Command(*cur, l, line, f))) {
        blocks.pop_back();
        cur = nullptr;
        lineError = f;
        f = Failure();
        framingOnly = true;
        continue;
      }
      if (!merged_) cur->opCount++;
    }
    if (inBlock || skipping) return framing(line + 1, "COMMIT expected");
    if (framingOnly) {
      f = lineError;
      return false;
    }
    return true;
  }

  int32_t Name(const std::string& s) {
    auto it = nameAt_.find(s);
    if (it != nameAt_.end()) return it->second;
    names.push_back(s);
    return nameAt_[s] = static_cast<int32_t>(names.size() - 1);
  }

  bool Chain(Block& b, std::string_view l, uint32_t line, Failure& f) {
    const char* p = l.data() + 1;
    const char* end = l.data() + l.size();
    std::string chain = Token(p, end);
    if (chain.empty()) return Fail(f, line, "chain name invalid");
    if (chain.size() >= 29) return Fail(f, line, "invalid chain name `" + chain + "' (28 chars max)");
    std::string policy = Token(p, end);
    if (policy.empty()) return Fail(f, line, "policy invalid");
    Op op{kChain, line};
    op.chain = Name(chain);
    op.arg = Name(policy);
    if (policy != "-" && counters_) {
      std::string c = Token(p, end);
      if (c.empty() || !ParseCounters(c.c_str(), op.pcnt, op.bcnt))
        return Fail(f, line, "invalid policy counters for chain '" + chain + "'");
      op.hasCounters = 1;
    }
    declared_.insert(chain);
    ops.push_back(op);
    return true;
  }

  bool Command(Block& b, std::string_view l, uint32_t line, Failure& f) {
    const char* p = l.data();
    const char* end = l.data() + l.size();
    Op op{kCommand, line};
    if (*p == '[') {
      const char* close = static_cast<const char*>(memchr(p, ']', end - p));
      if (!close) return Fail(f, line, "bad counters: need ]");
      const char* colon = static_cast<const char*>(memchr(p, ':', close - p));
      if (!colon || colon == p + 1 || colon + 1 == close) return Fail(f, line, "bad counters: need [packets:bytes]");
      if (counters_) {
        if (!Number(std::string(p + 1, colon), op.pcnt) || !Number(std::string(colon + 1, close), op.bcnt))
          return Fail(f, line, "invalid counters " + std::string(p, close + 1));
        op.hasCounters = 1;
      }
      p = close + 1;
    }
    std::vector<std::string>& words = words_;
    if (!SplitWords(p, end, words, line, f)) return false;
    if (words.size() + (op.hasCounters ? 3 : 0) >= kMaxArgs) return Fail(f, line, "too many words on one line");
    if ((words.empty() || (words[0] != "-A" && words[0] != "--append") || words.size() < 2)) {
      std::string joined;
      for (size_t i = 0; i < words.size(); i++) {
        if (i) joined += '\0';
        joined += words[i];
      }
      op.arg = Name(joined);
      Track(words);
      ops.push_back(op);
      return true;
    }
    op.kind = kAppend;
    if (words[1] != lastChain_) {
      lastChain_ = words[1];
      lastChainName_ = Name(words[1]);
    }
    op.chain = lastChainName_;
    if (!Check(words, line, f)) return false;
    const std::string* jump = nullptr;
    bool isGoto = false;
    for (size_t i = words.size() - 2; i >= 2; i--) {
      const std::string& w = words[i];
      if (w.size() < 2 || w[0] != '-') continue;
      bool j = w == "-j" || w == "--jump", g = w == "-g" || w == "--goto";
      if (j || g) {
        jump = &words[i + 1];
        isGoto = g;
        break;
      }
    }
    int32_t v;
    bool chainJump = jump && !jump->empty() &&
                     (declared_.count(*jump) > 0 ||
                      (noflush_ && !VerdictOf(jump->c_str(), &v) && !xtg_target_exists(fam_.nfproto, jump->c_str())));
    if (isGoto && !chainJump && !VerdictOf(jump->c_str(), &v)) chainJump = noflush_;
    std::vector<char*>& argv = argv_;
    static char program[] = "iptables";
    argv.clear();
    argv.push_back(program);
    for (size_t i = 2; i < words.size(); i++) argv.push_back(&words[i][0]);
    argv.push_back(nullptr);
    op.first = static_cast<uint32_t>(parsed.offsets.size());
    if (!ParseOneLocked(fam_, b.table, argv, chainJump, parsed, f)) {
      f.message = "line " + std::to_string(line) + ": " + f.message;
      f.line = static_cast<int>(line);
      return false;
    }
    op.count = parsed.perRule.back();
    if (chainJump) op.jump = Name(*jump);
    // -A lines to one chain with one jump and no counters, one after another,
    // are one op: JavaScript appends them at once.
    Op* prev = ops.empty() || b.opCount == 0 || ops.size() <= b.firstOp ? nullptr : &ops.back();
    if (prev && prev->kind == kAppend && prev->chain == op.chain && prev->jump == op.jump && !prev->hasCounters &&
        !op.hasCounters && prev->first + prev->count == op.first) {
      prev->count += op.count;
      merged_ = true;
      return true;
    }
    ops.push_back(op);
    return true;
  }

  // What iptables checks from the words alone before anything else.
  bool Check(const std::vector<std::string>& words, uint32_t line, Failure& f) {
    const std::string& chain = words[1];
    for (size_t i = 2; i < words.size(); i++) {
      const std::string& w = words[i];
      if (w.size() < 2 || w[0] != '-' || (w.size() > 2 && w[1] != '-') || (w[1] != 'i' && w[1] != 'o' && w[2] != 'i' && w[2] != 'o')) continue;
      bool in = w == "-i" || w == "--in-interface" || w.rfind("--in-interface=", 0) == 0;
      bool out = w == "-o" || w == "--out-interface" || w.rfind("--out-interface=", 0) == 0;
      if (out && (chain == "PREROUTING" || chain == "INPUT")) return Fail(f, line, "can't use -o with " + chain);
      if (in && (chain == "POSTROUTING" || chain == "OUTPUT")) return Fail(f, line, "can't use -i with " + chain);
    }
    return true;
  }

  // Chains a command makes or renames: jumps to them parse as jumps.
  void Track(const std::vector<std::string>& w) {
    if (w.size() >= 2 && (w[0] == "-N" || w[0] == "--new-chain" || w[0] == "--new")) declared_.insert(w[1]);
    if (w.size() >= 3 && (w[0] == "-E" || w[0] == "--rename-chain")) declared_.insert(w[2]);
  }

  const Family& fam_;
  bool counters_, noflush_;
  std::string only_;
  std::set<std::string> declared_;
  std::vector<std::string> words_;  // reused from line to line
  std::vector<char*> argv_;
  bool merged_ = false;    // the last line's op joined the one before
  std::string lastChain_;  // -A lines name one chain after another: its name's index, kept
  int32_t lastChainName_ = -1;
  std::unordered_map<std::string, int32_t> nameAt_;
};

class CompileJob : public Job {
 public:
  CompileJob(const Family& fam, bool counters, bool noflush, std::string only)
      : c_(fam, counters, noflush, std::move(only)) {}
  // The text: a string (converted now), or UTF-8 pieces (joined on the worker).
  void SetText(Napi::Value v) {
    if (!v.IsArray()) {
      text_ = v.As<Napi::String>();
      return;
    }
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value b = a.Get(i);
      auto buf = b.As<Napi::Buffer<char>>();
      pieces_.emplace_back(buf.Data(), buf.Length());
      keep_.push_back(Napi::Persistent(b));
    }
  }
  // A bad line ends the input there: the blocks before it stand (iptables-
  // restore commits each table at its COMMIT), and the error comes with them.
  void Run() override {
    for (const auto& p : pieces_) text_.append(p.first, p.second);
    if (!c_.Run(text_, error_) && error_.code != "ERR_IPTC_PARSE") failure = error_;
    // What is big is made ready, and the text let go, here, off the event
    // loop: Result() and the job's end run on the JavaScript thread.
    bytes_ = std::make_unique<std::vector<char>>(std::move(c_.parsed.bytes));
    bytes_->shrink_to_fit();
    std::string().swap(text_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Array blocks = Napi::Array::New(env, c_.blocks.size());
    for (size_t i = 0; i < c_.blocks.size(); i++) {
      const Block& b = c_.blocks[i];
      Napi::Array a = Napi::Array::New(env, 4);
      a[0u] = b.table;
      a[1u] = b.line;
      a[2u] = b.firstOp;
      a[3u] = b.opCount;
      blocks[i] = a;
    }
    o.Set("blocks", blocks);
    if (error_.failed()) o.Set("error", MakeError(env, error_).Value());
    Napi::Array names = Napi::Array::New(env, c_.names.size());
    for (size_t i = 0; i < c_.names.size(); i++) names[i] = Napi::String::New(env, c_.names[i]);
    o.Set("names", names);
    auto ops = Napi::Uint32Array::New(env, 8 * c_.ops.size());
    auto ab = Napi::ArrayBuffer::New(env, 16 * c_.ops.size());
    auto* k = static_cast<uint64_t*>(ab.Data());
    for (size_t i = 0; i < c_.ops.size(); i++) {
      const Op& op = c_.ops[i];
      uint32_t* r = ops.Data() + 8 * i;
      r[0] = op.kind, r[1] = op.line, r[2] = static_cast<uint32_t>(op.chain), r[3] = static_cast<uint32_t>(op.jump);
      r[4] = op.first, r[5] = op.count, r[6] = static_cast<uint32_t>(op.arg), r[7] = op.hasCounters;
      k[2 * i] = op.pcnt;
      k[2 * i + 1] = op.bcnt;
    }
    o.Set("ops", ops);
    o.Set("counters", Napi::TypedArrayOf<uint64_t>::New(env, 2 * c_.ops.size(), ab, 0, napi_biguint64_array));
    auto* bytes = bytes_.release();
    int64_t size = static_cast<int64_t>(bytes->capacity());
    Napi::MemoryManagement::AdjustExternalMemory(env, size);
    o.Set("bytes", Napi::Buffer<char>::New(env, bytes->data(), bytes->size(),
                                           [size](Napi::Env e, char*, std::vector<char>* v) {
                                             Napi::MemoryManagement::AdjustExternalMemory(e, -size);
                                             delete v;
                                           },
                                           bytes));
    auto offsets = Napi::Uint32Array::New(env, c_.parsed.offsets.size());
    if (!c_.parsed.offsets.empty())
      memcpy(offsets.Data(), c_.parsed.offsets.data(), c_.parsed.offsets.size() * sizeof(uint32_t));
    o.Set("offsets", offsets);
    return o;
  }

 private:
  std::string text_;
  std::unique_ptr<std::vector<char>> bytes_ = std::make_unique<std::vector<char>>();
  std::vector<std::pair<const char*, size_t>> pieces_;
  std::vector<Napi::Reference<Napi::Value>> keep_;
  Compiler c_;
  Failure error_;
};

}  // namespace

Napi::Value CompileRestore(const Napi::CallbackInfo& info) {
  const Family& fam = FamilyFor(info[0].As<Napi::String>());
  Napi::Object opts = info[2].As<Napi::Object>();
  Napi::Value only = opts.Get("table");
  auto job = std::make_unique<CompileJob>(fam, opts.Get("counters").ToBoolean(), opts.Get("noflush").ToBoolean(),
                                          only.IsString() ? std::string(only.As<Napi::String>()) : "");
  job->SetText(info[1]);
  return RunJob(info.Env(), std::move(job), info[3].ToBoolean());
}

}  // namespace iptc
