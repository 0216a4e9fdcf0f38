#include "mirror/mirror_config.h"

#include <map>
#include <stdexcept>

namespace walrus::mirror {
namespace {

std::string Substitute(std::string s, const std::string& src, const std::string& dst) {
  for (auto [pat, rep] : {std::pair<std::string, std::string>{"{src}", src}, {"{dst}", dst}}) {
    for (size_t at = s.find(pat); at != std::string::npos; at = s.find(pat, at + rep.size())) {
      s.replace(at, pat.size(), rep);
    }
  }
  return s;
}

void CheckAlias(const std::string& alias, const std::string& flag) {
  if (alias.empty() || alias.find('/') != std::string::npos ||
      alias.find(':') != std::string::npos || alias.find('=') != std::string::npos) {
    throw std::invalid_argument(flag + ": cluster alias '" + alias +
                                "' must be non-empty and contain no '/', ':' or '='");
  }
}

}  // namespace

bool FlowConfig::Selects(const std::string& topic) const {
  for (const auto& t : topics) {
    if (!t.empty() && t[0] == '^') {
      if (std::regex_search(topic, std::regex(t))) return true;
    } else if (t == topic) {
      return true;
    }
  }
  return false;
}

std::pair<std::string, std::string> ParseKeyValue(const std::string& kv, const std::string& flag) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw std::invalid_argument(flag + " expects key=value, got '" + kv + "'");
  }
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

std::vector<FlowConfig> BuildFlows(const MirrorFlags& f) {
  FlowConfig base;
  if (f.naming == "identity") {
    base.naming = Naming::kIdentity;
  } else if (f.naming == "prefix") {
    base.naming = Naming::kPrefix;
  } else {
    throw std::invalid_argument("--naming must be identity or prefix, got '" + f.naming + "'");
  }
  kafka::Properties common, src_x, dst_x;
  for (const auto& kv : f.x_props) common.push_back(ParseKeyValue(kv, "-X"));
  for (const auto& kv : f.source_x) src_x.push_back(ParseKeyValue(kv, "--source-X"));
  for (const auto* props : {&common, &src_x}) {
    for (const auto& [k, v] : *props) {
      if (k == "auto.offset.reset") {
        throw std::invalid_argument(
            std::string(props == &common ? "-X" : "--source-X") +
            " auto.offset.reset: refused, the mirror never resets a source position (one outside "
            "the source log holds the partition until an operator decides: docs/log-gaps.md)");
      }
    }
  }
  for (const auto& kv : f.target_x) dst_x.push_back(ParseKeyValue(kv, "--target-X"));
  base.transactions = !f.no_transactions;
  if (f.commit_interval_ms < 1) throw std::invalid_argument("--commit-interval-ms must be >= 1");
  if (f.heartbeat_interval_ms < 1) {
    throw std::invalid_argument("--heartbeat-interval-ms must be >= 1");
  }
  if (f.workers < 1 || f.workers > 64) throw std::invalid_argument("--workers must be 1..64");
  base.workers = static_cast<size_t>(f.workers);
  base.commit_interval = std::chrono::milliseconds(f.commit_interval_ms);
  base.heartbeat_interval = std::chrono::milliseconds(f.heartbeat_interval_ms);

  std::vector<std::pair<std::string, std::string>> pairs;  // (src alias, dst alias)
  std::map<std::string, std::string> boot;
  if (!f.clusters.empty() || !f.flows.empty()) {
    if (!f.source.empty() || !f.target.empty()) {
      throw std::invalid_argument("use either --source/--target or --cluster/--flow, not both");
    }
    for (const auto& c : f.clusters) {
      auto [name, b] = ParseKeyValue(c, "--cluster");
      CheckAlias(name, "--cluster");
      if (b.empty()) throw std::invalid_argument("--cluster " + name + ": empty bootstrap");
      boot[name] = b;
    }
    if (f.flows.empty()) throw std::invalid_argument("--cluster needs at least one --flow SRC:DST");
    for (const auto& fl : f.flows) {
      const auto colon = fl.find(':');
      if (colon == std::string::npos) {
        throw std::invalid_argument("--flow expects SRC:DST, got '" + fl + "'");
      }
      std::string s = fl.substr(0, colon), d = fl.substr(colon + 1);
      for (const auto& a : {s, d}) {
        if (!boot.count(a)) {
          throw std::invalid_argument("--flow " + fl + ": no --cluster named '" + a + "'");
        }
      }
      if (s == d) throw std::invalid_argument("--flow " + fl + ": source and target are the same");
      pairs.emplace_back(s, d);
    }
  } else {
    if (f.source.empty()) throw std::invalid_argument("--source is required");
    if (f.target.empty()) throw std::invalid_argument("--target is required");
    CheckAlias(f.source_alias, "--source-alias");
    CheckAlias(f.target_alias, "--target-alias");
    if (f.source_alias == f.target_alias) {
      throw std::invalid_argument("--source-alias and --target-alias must differ");
    }
    if (f.topics.empty()) throw std::invalid_argument("--topics is required");
    boot[f.source_alias] = f.source;
    boot[f.target_alias] = f.target;
    pairs.emplace_back(f.source_alias, f.target_alias);
  }
  const std::vector<std::string> topics =
      f.topics.empty() ? std::vector<std::string>{"{src}.events"} : f.topics;
  std::vector<FlowConfig> out;
  for (const auto& [s, d] : pairs) {
    FlowConfig fc = base;
    fc.source_alias = s;
    fc.target_alias = d;
    fc.source_bootstrap = boot[s];
    fc.target_bootstrap = boot[d];
    for (const auto& t : topics) {
      std::string sub = Substitute(t, s, d);
      if (sub.empty()) throw std::invalid_argument("--topics: empty topic");
      if (sub[0] == '^') {
        try {
          std::regex re(sub);
        } catch (const std::regex_error& e) {
          throw std::invalid_argument("--topics: bad regex '" + sub + "': " + e.what());
        }
      } else if (sub.find('/') != std::string::npos) {
        throw std::invalid_argument("--topics: topic '" + sub + "' must not contain '/'");
      }
      fc.topics.push_back(sub);
    }
    fc.source_props = common;
    fc.source_props.insert(fc.source_props.end(), src_x.begin(), src_x.end());
    fc.target_props = common;
    fc.target_props.insert(fc.target_props.end(), dst_x.begin(), dst_x.end());
    fc.source_props.insert(fc.source_props.begin(), {"bootstrap.servers", fc.source_bootstrap});
    fc.target_props.insert(fc.target_props.begin(), {"bootstrap.servers", fc.target_bootstrap});
    out.push_back(std::move(fc));
  }
  return out;
}

std::string ApplySrcAuth(const MirrorFlags& f, std::vector<FlowConfig>& flows) {
  auto keys = LoadSrcKeys(f.src_key_file);
  if (!keys) throw std::invalid_argument(keys.error().message);
  if (keys->empty() && !f.no_src_auth) {
    throw std::invalid_argument(
        "no source key: give the key shared with the appliers (--src-key-file or "
        "WALRUS_SRC_KEY); walrus apply refuses mirrored records whose walrus-src it cannot "
        "authenticate. --no-src-auth mirrors without (every walrus apply downstream then "
        "dead-letters these records)");
  }
  if (!keys->empty() && f.no_src_auth) {
    throw std::invalid_argument("--no-src-auth contradicts the source key given");
  }
  for (auto& fc : flows) fc.src_keys = *keys;
  return keys->empty() ? std::string() : keys->Ids();
}

}  // namespace walrus::mirror
