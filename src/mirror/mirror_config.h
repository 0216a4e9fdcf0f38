#pragma once

// Typed configuration of `walrus mirror`: one or more flows (source cluster -> target cluster,
// a topic selection each), filled from flags / WALRUS_* env by mirror_command.cc and validated
// once at start-up (BuildFlows / Validate throw std::invalid_argument naming the flag).
//
//   MirrorFlags f;                         // as parsed by CLI11
//   std::vector<FlowConfig> flows = BuildFlows(f);
//   flows[0].TargetTopic("redis-writes");  // "redis-writes" (identity) or "dc.redis-writes"

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "core/src_key_ring.h"
#include "kafka/types.h"
#include "protocol/headers.h"
#include "protocol/topics.h"
#include "replication/mirror_state.h"

namespace walrus::mirror {

enum class Naming { kIdentity, kPrefix };

inline constexpr const char* kOffsetsTopic = replication::kMirrorOffsetsTopic;
inline constexpr const char* kHeartbeatsTopic = replication::kMirrorHeartbeatsTopic;
inline constexpr const char* kSrcHeader = protocol::kSrcHeader;
inline constexpr const char* kOriginHeader = protocol::kOriginHeader;

// One source -> target replication flow.
struct FlowConfig {
  std::string source_alias;
  std::string target_alias;
  std::string source_bootstrap;
  std::string target_bootstrap;
  // Topic names, or regexes (an entry starting with '^'), {src}/{dst} already substituted.
  std::vector<std::string> topics;
  Naming naming = Naming::kIdentity;
  kafka::Properties source_props;  // -X then --source-X
  kafka::Properties target_props;  // -X then --target-X
  bool transactions = true;
  std::chrono::milliseconds commit_interval{100};
  std::chrono::milliseconds heartbeat_interval{1000};
  size_t batch_max = 10000;
  size_t workers = 1;  // forwarders (clients + thread) sharing the flow's partitions
  // Signs every walrus-src (walrus-src-mac, core/src_mac.h) with its first key; empty only with
  // --no-src-auth (then every walrus apply refuses the flow's records). Set by ApplySrcAuth.
  SrcKeyRing src_keys;

  std::string Name() const { return protocol::MirrorFlowName(source_alias, target_alias); }
  std::string TargetTopic(const std::string& source_topic) const {
    return naming == Naming::kPrefix ? source_alias + "." + source_topic : source_topic;
  }
  // True when the source topic is selected by `topics`.
  bool Selects(const std::string& topic) const;
};

// Flags as parsed; BuildFlows turns them into flows.
struct MirrorFlags {
  std::string source, target;
  std::string source_alias = "source", target_alias = "target";
  std::vector<std::string> clusters;  // NAME=BOOTSTRAP
  std::vector<std::string> flows;     // SRC:DST
  std::vector<std::string> topics;    // names / regexes, may hold {src} {dst}
  std::string naming = "identity";
  std::vector<std::string> x_props, source_x, target_x;  // key=value
  bool no_transactions = false;
  int commit_interval_ms = 100;
  int heartbeat_interval_ms = 1000;
  int workers = 1;
  std::string src_key_file;  // --src-key-file / WALRUS_SRC_KEY_FILE (or env WALRUS_SRC_KEY)
  bool no_src_auth = false;
};

std::vector<FlowConfig> BuildFlows(const MirrorFlags& f);
// Loads the source keys (LoadSrcKeys) into every flow. Throws std::invalid_argument without a
// key unless --no-src-auth, and with both. Returns the key ring's ids ("" with --no-src-auth).
std::string ApplySrcAuth(const MirrorFlags& f, std::vector<FlowConfig>& flows);

// "key=value" -> pair; throws std::invalid_argument naming `flag`.
std::pair<std::string, std::string> ParseKeyValue(const std::string& kv, const std::string& flag);

}  // namespace walrus::mirror
