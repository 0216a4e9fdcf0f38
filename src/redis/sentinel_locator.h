#pragma once

// SentinelLocator: finds the Redis primary through Redis Sentinel and notices failovers.
//
//   redis::SentinelOptions o;
//   o.sentinels = *redis::ParseSentinelList("10.0.0.1:26379,10.0.0.2:26379", sentinel_auth);
//   o.master_name = "mymaster";
//   o.data = primary_template;            // user/password/db/TLS for the data connection
//   auto loc = std::make_unique<redis::SentinelLocator>(o);
//   loc->Start();                          // background +switch-master subscription
//   auto ep = loc->Locate();               // asks the sentinels in turn
//   if (loc->Changed()) { /* drop the connection, Locate() again */ }
//
// Locate() asks each sentinel in turn `SENTINEL get-master-addr-by-name NAME`, skipping those
// that are down or do not know the name; the first that answers moves to the front of the list
// so later calls ask it first. The answer is `data` with host/port replaced.
//
// A background thread keeps a SUBSCRIBE +switch-master on one sentinel (moving to the next if
// that one fails) and sets Changed() when the master's address differs from the one Locate()
// last returned. After (re)subscribing it re-asks the address, so a switch announced while it
// was not subscribed is not missed. A sentinel's answer can be stale; the caller must still
// check ROLE on the primary it connects to (the applier does, and re-locates if not master).
//
// Threading: Locate()/Changed()/Describe() are called by one owner thread (the applier's);
// the subscription thread shares the located address and the sentinel order under a mutex.
// The destructor stops and joins the thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "redis/endpoint.h"
#include "redis/primary_locator.h"

namespace walrus::redis {

inline constexpr int kDefaultSentinelPort = 26379;

struct SentinelOptions {
  // Sentinels, each with the credentials/TLS to talk to it.
  std::vector<Endpoint> sentinels;
  std::string master_name;
  // The primary's credentials, db and TLS; host/port come from the sentinels.
  Endpoint data;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds io_timeout{2000};
  // Pause before subscribing to the next sentinel after a failure.
  std::chrono::milliseconds resubscribe_delay{200};
};

// Parses "host:port[,host:port...]" (port defaults to 26379); every entry gets `auth`'s user,
// password, tls and tls_config. kInvalidArgument naming the bad entry.
Result<std::vector<Endpoint>> ParseSentinelList(const std::string& list, const Endpoint& auth);

class SentinelLocator final : public PrimaryLocator {
 public:
  explicit SentinelLocator(SentinelOptions opts);
  ~SentinelLocator() override;
  SentinelLocator(const SentinelLocator&) = delete;
  SentinelLocator& operator=(const SentinelLocator&) = delete;

  // Starts the subscription thread (idempotent).
  void Start();

  // kUnavailable naming each sentinel's problem if none answered with an address.
  Result<Endpoint> Locate() override;
  bool Changed() override;
  std::string Describe() const override;

  // +switch-master messages seen for our master name (any sentinel), for tests and metrics.
  uint64_t switches_seen() const { return switches_.load(); }
  // True while the subscription is established on some sentinel.
  bool subscribed() const { return subscribed_.load(); }

 private:
  // Asks the sentinels in order; the address as host/port in an Endpoint copy of opts_.data.
  Result<Endpoint> Ask();
  void Watch();
  // One subscription session on sentinel `ep` until it fails or Stop.
  Status WatchOne(const Endpoint& ep);
  // Marks changed_ if `addr` differs from the last located address.
  void Observe(const std::string& host, int port, const char* how);
  // Sleeps up to `d` unless stopping; false when stopping.
  bool Pause(std::chrono::milliseconds d);

  const SentinelOptions opts_;
  mutable std::mutex mu_;
  std::vector<Endpoint> order_;           // sentinels, the last one that answered first
  std::optional<std::pair<std::string, int>> located_;  // what Locate() last returned
  std::atomic<bool> changed_{false};
  std::atomic<bool> subscribed_{false};
  std::atomic<uint64_t> switches_{0};
  std::atomic<bool> stop_{false};
  std::condition_variable cv_;  // wakes Pause() on stop
  std::thread thread_;
};

}  // namespace walrus::redis
