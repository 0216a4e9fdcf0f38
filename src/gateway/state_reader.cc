#include "gateway/state_reader.h"

#include <algorithm>

#include "core/sha1.h"
#include "dataset/reader.h"

namespace walrus::gateway {
namespace {

constexpr size_t kChunk = 500;
constexpr size_t kMaxIdle = 4;

// As the gateway always read: remaining TTLs, other types without their value, a key whose value
// read fails (it changed type meanwhile) skipped like a key that vanished.
constexpr dataset::ReadOptions kRead{.expiry = dataset::Expiry::kTtl,
                                     .dump_other_types = false,
                                     .error_reads_as_missing = true};

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

Result<std::vector<KeyValue>> StateReader::Fill(redis::Connection& c,
                                                const std::vector<std::string>& keys) {
  auto kvs = dataset::ReadKeys(c, keys, kRead);
  if (!kvs) return kvs.error();
  std::erase_if(*kvs, [](const KeyValue& kv) { return kv.type == "none"; });
  return kvs;
}

Result<Snapshot> StateReader::Read(size_t max_listed) {
  auto conn = Acquire();
  if (!conn) return conn.error();
  Lease c(this, std::move(*conn));
  auto keys = dataset::ScanKeys(*c, dataset::IsUserKey);
  if (!keys) return keys.error();

  Snapshot snap;
  std::string canonical;
  for (size_t at = 0; at < keys->size(); at += kChunk) {
    const std::vector<std::string> part(keys->begin() + static_cast<ptrdiff_t>(at),
                                        keys->begin() + static_cast<ptrdiff_t>(
                                                            std::min(keys->size(), at + kChunk)));
    auto chunk = Fill(*c, part);
    if (!chunk) return chunk.error();
    for (auto& kv : *chunk) {
      dataset::AppendCanonical(kv, canonical);
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
  auto one = Fill(*c, {std::string(key)});
  if (!one) return one.error();
  if (one->empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(one->front()));
}

}  // namespace walrus::gateway
