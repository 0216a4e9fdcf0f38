#include "gateway/state_reader.h"

#include <algorithm>

#include "core/sha1.h"

namespace walrus::gateway {
namespace {

constexpr size_t kChunk = 500;
constexpr size_t kMaxIdle = 4;

// The read command of a type; empty for types shown without a value.
std::vector<std::string> ReadCommand(const KeyValue& kv) {
  if (kv.type == "string") return {"GET", kv.key};
  if (kv.type == "hash") return {"HGETALL", kv.key};
  if (kv.type == "set") return {"SMEMBERS", kv.key};
  if (kv.type == "zset") return {"ZRANGE", kv.key, "0", "-1", "WITHSCORES"};
  if (kv.type == "list") return {"LRANGE", kv.key, "0", "-1"};
  if (kv.type == "stream") return {"XRANGE", kv.key, "-", "+"};
  return {};
}

// Stores reply `r` as kv's value. False if it does not fit the type (the key changed meanwhile).
bool TakeValue(redis::ReplyView r, KeyValue& kv) {
  using redis::ReplyType;
  if (kv.type == "string") {
    if (r.type() != ReplyType::kString) return false;
    kv.str = std::string(r.str());
    return true;
  }
  if (r.type() != ReplyType::kArray) return false;
  if (kv.type == "hash" || kv.type == "zset") {
    for (size_t i = 0; i + 1 < r.size(); i += 2) {
      kv.pairs.emplace_back(r.element(i).str(), r.element(i + 1).str());
    }
  } else if (kv.type == "set" || kv.type == "list") {
    for (size_t i = 0; i < r.size(); ++i) kv.items.emplace_back(r.element(i).str());
  } else if (kv.type == "stream") {
    for (size_t i = 0; i < r.size(); ++i) {
      redis::ReplyView e = r.element(i);
      if (e.size() != 2) return false;
      StreamEntry entry{.id = std::string(e.element(0).str())};
      redis::ReplyView f = e.element(1);
      for (size_t j = 0; j + 1 < f.size(); j += 2) {
        entry.fields.emplace_back(f.element(j).str(), f.element(j + 1).str());
      }
      kv.entries.push_back(std::move(entry));
    }
  }
  Canonicalize(kv);
  return true;
}

}  // namespace

// A connection borrowed from the pool; goes back on destruction unless it broke.
class StateReader::Lease {
 public:
  Lease(StateReader* owner, std::unique_ptr<redis::Connection> c)
      : owner_(owner), c_(std::move(c)) {}
  ~Lease() {
    if (c_ && !c_->broken()) owner_->Release(std::move(c_));
  }
  redis::Connection& operator*() { return *c_; }
  redis::Connection* operator->() { return c_.get(); }

 private:
  StateReader* owner_;
  std::unique_ptr<redis::Connection> c_;
};

StateReader::StateReader(redis::Endpoint ep, std::chrono::milliseconds io_timeout)
    : ep_(std::move(ep)),
      opts_{.connect_timeout = std::chrono::milliseconds(1000),
            .io_timeout = io_timeout,
            .client_name = "walrus-gateway"} {}

Result<std::unique_ptr<redis::Connection>> StateReader::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return redis::Connection::Connect(ep_, opts_);
}

void StateReader::Release(std::unique_ptr<redis::Connection> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
}

Status StateReader::Ping() {
  auto c = Acquire();
  if (!c) return c.error();
  Lease lease(this, std::move(*c));
  auto r = lease->CommandOk({"PING"});
  if (!r) return r.error();
  return Status::Ok();
}

Status StateReader::Fill(redis::Connection& c, std::vector<KeyValue>& kvs) {
  for (const auto& kv : kvs) {
    c.AppendArgs("TYPE", kv.key);
    c.AppendArgs("PTTL", kv.key);
  }
  auto meta = c.ReadReplies(c.pending());
  if (!meta) return meta.error();
  for (size_t i = 0; i < kvs.size(); ++i) {
    const redis::Reply& type = (*meta)[2 * i];
    if (type.IsError()) return type.ToError();
    kvs[i].type = std::string(type.str());
    kvs[i].ttl_ms = (*meta)[2 * i + 1].integer() >= 0 ? (*meta)[2 * i + 1].integer() : -1;
  }
  std::vector<KeyValue*> reading;  // appended only once nothing can fail before reading them
  for (auto& kv : kvs) {
    auto cmd = ReadCommand(kv);
    if (!cmd.empty()) {
      c.Append(cmd);
      reading.push_back(&kv);
    }
  }
  std::vector<bool> gone(kvs.size(), false);
  for (size_t i = 0; i < kvs.size(); ++i) gone[i] = kvs[i].type == "none";
  if (!reading.empty()) {
    auto values = c.ReadReplies(c.pending());
    if (!values) return values.error();
    for (size_t i = 0; i < reading.size(); ++i) {
      if (!TakeValue((*values)[i].view(), *reading[i])) {
        gone[static_cast<size_t>(reading[i] - kvs.data())] = true;
      }
    }
  }
  size_t w = 0;
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (!gone[i]) {
      if (w != i) kvs[w] = std::move(kvs[i]);
      ++w;
    }
  }
  kvs.resize(w);
  return Status::Ok();
}

Result<Snapshot> StateReader::Read(size_t max_listed) {
  auto conn = Acquire();
  if (!conn) return conn.error();
  Lease c(this, std::move(*conn));
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto r = c->CommandOk({"SCAN", cursor, "COUNT", "1000"});
    if (!r) return r.error();
    if (r->size() != 2) return Error(Errc::kInternal, "SCAN: unexpected reply " + r->DebugString());
    cursor = std::string(r->element(0).str());
    redis::ReplyView batch = r->element(1);
    for (size_t i = 0; i < batch.size(); ++i) {
      std::string_view k = batch.element(i).str();
      if (IsUserKey(k)) keys.emplace_back(k);
    }
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());  // SCAN may repeat keys

  Snapshot snap;
  std::string canonical;
  for (size_t at = 0; at < keys.size(); at += kChunk) {
    std::vector<KeyValue> chunk;
    for (size_t i = at; i < std::min(keys.size(), at + kChunk); ++i) {
      chunk.push_back(KeyValue{.key = std::move(keys[i])});
    }
    if (auto st = Fill(*c, chunk); !st) return st.error();
    for (auto& kv : chunk) {
      AppendCanonical(kv, canonical);
      ++snap.keys;
      if (snap.data.size() < max_listed) {
        snap.data.push_back(std::move(kv));
      } else {
        snap.truncated = true;
      }
    }
  }
  snap.digest = Sha1Hex(canonical);
  return snap;
}

Result<std::optional<KeyValue>> StateReader::ReadKey(std::string_view key) {
  auto conn = Acquire();
  if (!conn) return conn.error();
  Lease c(this, std::move(*conn));
  std::vector<KeyValue> one{KeyValue{.key = std::string(key)}};
  if (auto st = Fill(*c, one); !st) return st.error();
  if (one.empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(one[0]));
}

}  // namespace walrus::gateway
