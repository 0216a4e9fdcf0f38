#pragma once

// Typed configuration of `walrus apply`: ApplyFlags as CLI11 parsed them (apply_command.cc),
// BuildApplyConfig turns them into an ApplyConfig validated once at start-up (it and Validate
// throw std::invalid_argument naming the problem), MakeLocator into the Redis primary locator.
//
//   ApplyFlags f;                                  // as parsed by CLI11
//   ApplyConfig cfg = BuildApplyConfig(f);         // secrets read, -X applied, validated
//   auto locator = MakeLocator(f, cfg);            // --redis or --sentinel

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/src_key_ring.h"
#include "crdt/crdt_planner.h"
#include "kafka/security.h"
#include "redis/endpoint.h"
#include "redis/primary_locator.h"
#include "protocol/topics.h"

namespace walrus::apply {

enum class Mode { kPlain, kCrdt };
enum class StartFrom { kEarliest, kLatest };

// Periodic GC of crdt sidecars (GcSweeper, docs/active-active.md).
struct GcOptions {
  std::chrono::milliseconds horizon{std::chrono::hours(24)};  // 0: GC off
  std::chrono::milliseconds interval{std::chrono::hours(1)};  // from sweep start to sweep start
  size_t keys_per_second = 1000;
  size_t step_keys = 100;  // SCAN COUNT, and GC calls per transaction (about)
  // Postponed sweeps (applier behind, see Step) are tried again after this.
  std::chrono::milliseconds retry{std::chrono::seconds(10)};
};

struct ApplyConfig {
  std::string brokers;
  std::vector<std::string> topics;
  std::string group;
  std::string redis_url;             // redis://[user:pass@]host:port[/db]
  std::string redis_password;        // from WALRUS_REDIS_PASSWORD or --redis-password-file
  std::vector<std::string> sentinels;
  std::string master_name;
  Mode mode = Mode::kPlain;
  std::string dlq_topic;             // empty: "<topic>.dlq" per source topic
  // Hidden --enable-test-hooks (never from env): only then are the WALRUS_TEST_CRASH_* variables
  // read (docs/dead-letters.md), so an env copied from a test cannot make a production applier exit.
  bool enable_test_hooks = false;
  std::string admin = "127.0.0.1:0";
  std::vector<std::pair<std::string, std::string>> kafka_props;  // -X key=value
  StartFrom start_from = StartFrom::kEarliest;  // where to start a partition with no stored position
  size_t batch_max_ops = 5000;       // ops per Redis transaction
  size_t batch_max_bytes = 4 << 20;  // payload bytes per Redis transaction
  std::chrono::milliseconds poll_timeout{100};
  std::chrono::milliseconds commit_interval{1000};
  std::chrono::milliseconds backoff_max{5000};
  GcOptions gc;                      // crdt mode only
  // Authenticated source coordinates (apply/source_auth.h): keys shared with the mirrors, and
  // the source aliases trusted. Both empty: every record carrying walrus-src is refused.
  SrcKeyRing src_keys;
  std::vector<std::string> trusted_sources;
  // crdt mode: stamps further ahead of this applier's clock are refused (CrdtPlanner).
  std::chrono::milliseconds max_clock_skew{60000};

  // Throws std::invalid_argument with a message naming the offending flag.
  void Validate() const;
  // One line for the start-up log; never contains secrets.
  std::string Describe() const;
  std::string DlqTopicFor(const std::string& topic) const {
    return dlq_topic.empty() ? protocol::DlqTopic(topic) : dlq_topic;
  }
};

// Flags as parsed by CLI11 (the ApplyConfig fields with a flag of their own are filled directly).
struct ApplyFlags {
  ApplyConfig cfg;
  std::vector<std::string> x_props;
  std::string mode = "plain";
  std::string start_from = "earliest";
  std::string password_file;
  // Redis HA / TLS / ACL (see docs/ha.md).
  std::string redis_user;
  std::string sentinel_user;
  std::string sentinel_password_file;
  redis::TlsConfig tls;
  kafka::SecurityFlags kafka_security;
  // crdt GC (docs/active-active.md), in ms after unit conversion.
  int64_t gc_horizon_ms = 24 * 3600 * 1000;
  int64_t gc_interval_ms = 3600 * 1000;
  std::string src_key_file;
  int64_t max_clock_skew_ms = crdt::kDefaultMaxClockSkewMs;
};

// Reads the secret files (and WALRUS_REDIS_PASSWORD), applies the security flags and -X, and
// validates. Throws std::invalid_argument naming the flag.
ApplyConfig BuildApplyConfig(const ApplyFlags& f);

// The locator of the Redis primary for --redis or --sentinel: credentials, db and TLS of the data
// connection from the URL / --redis-user / password / --redis-tls-*; Sentinel auth from its own
// flags (WALRUS_SENTINEL_PASSWORD). A SentinelLocator is not started yet (threads inherit the
// signal mask: start it once signals are blocked). Throws std::invalid_argument naming the flag.
std::unique_ptr<redis::PrimaryLocator> MakeLocator(const ApplyFlags& f, const ApplyConfig& cfg);

}  // namespace walrus::apply
