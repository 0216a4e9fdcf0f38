#include "apply/redis_session.h"

#include "core/log.h"

namespace walrus::apply {
namespace {

class RealRedisConnector final : public RedisConnector {
 public:
  Result<Greeting> Open(const redis::Endpoint& ep) override {
    auto c = redis::Connection::Connect(ep);
    if (!c) return c.error();
    // One round trip: is it a primary, and of which election (docs/ha.md, epoch fencing)?
    (*c)->Append({"ROLE"});
    (*c)->Append({"GET", kEpochKey});
    auto replies = (*c)->ReadReplies(2);
    if (!replies) return replies.error();
    Greeting g;
    const auto& role = (*replies)[0];
    g.role = !role.IsError() && role.size() > 0 ? std::string(role.element(0).str())
                                                : std::string("unknown");
    const auto& stored_epoch = (*replies)[1];
    if (stored_epoch.IsError()) {
      g.epoch_error = stored_epoch.ToError().message;
    } else if (!stored_epoch.IsNil()) {
      g.epoch = std::string(stored_epoch.str());
    }
    g.conn = std::move(*c);
    return g;
  }

  Result<std::string> Role(redis::Connection* conn) override {
    auto role = conn->Command({"ROLE"});
    if (!role) return role.error();
    if (role->IsError()) return role->ToError();
    if (role->size() == 0) return std::string();
    return std::string(role->element(0).str());
  }
};

}  // namespace

std::unique_ptr<RedisConnector> RedisSession::RealConnector() {
  return std::make_unique<RealRedisConnector>();
}

RedisSession::RedisSession(std::unique_ptr<redis::PrimaryLocator> locator,
                           std::unique_ptr<RedisConnector> connector, ApplyProbe& probe,
                           Clock& clock, std::chrono::milliseconds backoff_max)
    : locator_(std::move(locator)),
      connector_(std::move(connector)),
      probe_(probe),
      backoff_(clock, std::chrono::milliseconds(100), backoff_max) {}

bool RedisSession::Ensure() {
  if (connected_ && !(conn_ && conn_->broken())) {
    if (!locator_->Changed()) return true;
    Drop("the primary moved (" + locator_->Describe() + ")");
  }
  if (connected_) Drop("connection broken");
  // A primary announced by the locator (Sentinel failover) is tried at once, not after backoff.
  if (backoff_.Waiting() && !locator_->Changed()) return false;
  auto located = locator_->Locate();
  if (!located) {
    Drop("locating the primary via " + locator_->Describe() + ": " + located.error().message);
    return false;
  }
  const redis::Endpoint ep = *located;
  auto g = connector_->Open(ep);
  if (!g) {
    Drop("connect " + redis::Redacted(ep) + ": " + g.error().message);
    return false;
  }
  if (g->role != "master") {
    Drop(redis::Redacted(ep) + " is not a writable primary (ROLE " + g->role + ")");
    return false;
  }
  if (g->epoch_error) {
    Drop("reading " + std::string(kEpochKey) + ": " + *g->epoch_error);
    return false;
  }
  if (Status st = epoch_.Check(g->epoch ? std::optional<std::string_view>(*g->epoch)
                                        : std::nullopt);
      !st) {
    RefuseStaleEpoch(redis::Redacted(ep) + ": " + st.error().message);
    return false;
  }
  if (epoch_.newest() >= 0) probe_.epoch.Set(static_cast<double>(epoch_.newest()));
  conn_ = std::move(g->conn);
  connected_ = true;
  probe_.redis_reconnects.Increment();
  probe_.PrimaryConnected(redis::HostPort(ep));  // failover metrics
  if (hooks_.resync && !hooks_.resync()) {
    Drop("resync failed");
    return false;
  }
  ok_.store(true);
  probe_.redis_up.Set(1);
  Logger("apply")->info("connected to Redis primary {}; positions re-read for {} partitions",
                        redis::Redacted(ep), hooks_.partitions ? hooks_.partitions() : 0);
  return true;
}

void RedisSession::RefuseStaleEpoch(const std::string& why) {
  probe_.epoch_refusals.Increment();
  WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 5000,
                      "refusing to write to a Redis of an older election, pausing: {}", why);
  Drop("stale epoch: " + why, /*quiet=*/true);
}

void RedisSession::Drop(const std::string& why, bool quiet) {
  const bool was_up = ok_.exchange(false);
  if (was_up) probe_.PrimaryLost();  // failover metrics: recovery time starts
  conn_.reset();
  connected_ = false;
  // The in-flight batch's outcome is unknown: the positions are read again on reconnect.
  if (hooks_.dropped) hooks_.dropped();
  probe_.redis_up.Set(0);
  const auto delay = backoff_.Failed();
  if (!quiet && (was_up || why != last_error_)) {
    Logger("apply")->warn("redis unavailable, pausing (retry in {} ms): {}", delay.count(), why);
  }
  last_error_ = why;
}

void RedisSession::Ping() {
  auto role = connector_->Role(conn_.get());
  if (!role) {
    Drop("health check: " + role.error().message);
  } else if (*role != "master") {
    Drop("health check: the Redis is no longer a primary");
  }
}

TxResult RedisSession::ReadExec(Transaction& tx) { return apply::ReadExec(*conn_, tx); }

TxResult RedisSession::Rerun(Transaction& tx) { return RunTransaction(*conn_, tx, epoch_); }

Status RedisSession::Discard() {
  conn_->Append({"DISCARD"});
  if (auto st = conn_->ReadReplies(conn_->pending(), &discard_scratch_); !st) return st;
  discard_scratch_.clear();
  return {};
}

}  // namespace walrus::apply
