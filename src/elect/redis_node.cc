#include "elect/redis_node.h"

#include <charconv>

namespace walrus::elect {
namespace {

int64_t ToInt(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

redis::ConnectOptions Options(std::chrono::milliseconds timeout) {
  redis::ConnectOptions o;
  o.connect_timeout = timeout;
  o.io_timeout = timeout;
  o.client_name = "walrus-elect";
  return o;
}

}  // namespace

std::string InfoField(std::string_view info, std::string_view key) {
  size_t pos = 0;
  while (pos < info.size()) {
    size_t eol = info.find('\n', pos);
    if (eol == std::string_view::npos) eol = info.size();
    std::string_view line = info.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      return std::string(line.substr(key.size() + 1));
    }
    pos = eol + 1;
  }
  return "";
}

Result<redis::Connection*> RedisNode::Conn() {
  if (conn_ && !conn_->broken()) return conn_.get();
  conn_.reset();
  auto c = redis::Connection::Connect(opts_.local, Options(opts_.timeout));
  if (!c) return c.error();
  conn_ = std::move(*c);
  return conn_.get();
}

Result<std::vector<redis::Reply>> RedisNode::Pipeline(
    const std::vector<std::vector<std::string>>& argvs, bool ok_only) {
  auto c = Conn();
  if (!c) return c.error();
  for (const auto& a : argvs) (*c)->Append(a);
  auto replies = (*c)->ReadReplies(argvs.size());
  if (!replies) {
    conn_.reset();
    return replies.error();
  }
  if (ok_only) {
    for (const auto& r : *replies) {
      if (r.IsError()) return r.ToError();
    }
  }
  return replies;
}

Result<NodeState> RedisNode::Probe() {
  auto replies = Pipeline({{"INFO", "server"}, {"INFO", "replication"}, {"GET", kEpochKey}}, false);
  if (!replies) return replies.error();
  const auto& r = *replies;
  if (r[0].IsError()) return r[0].ToError();
  if (r[1].IsError()) return r[1].ToError();
  NodeState s;
  s.run_id = InfoField(r[0].str(), "run_id");
  const std::string_view repl = r[1].str();
  s.master = InfoField(repl, "role") == "master";
  if (s.master) {
    s.repl_offset = ToInt(InfoField(repl, "master_repl_offset"));
  } else {
    s.master_host = InfoField(repl, "master_host");
    s.master_port = static_cast<int>(ToInt(InfoField(repl, "master_port")));
    s.link_up = InfoField(repl, "master_link_status") == "up";
    s.syncing = InfoField(repl, "master_sync_in_progress") == "1";
    s.repl_offset = ToInt(InfoField(repl, "slave_repl_offset"));
  }
  if (r[2].IsError()) {
    if (r[2].ErrorPrefix() != "LOADING") return r[2].ToError();
    s.loading = true;
  } else if (!r[2].IsNil()) {
    s.epoch = ToInt(r[2].str());
  }
  return s;
}

Status RedisNode::Promote(int64_t epoch) {
  // Pipelined: Redis runs a client's buffered commands back to back, so no write of another
  // client lands between the promotion and the epoch (and no client is routed here yet anyway).
  auto replies =
      Pipeline({{"REPLICAOF", "NO", "ONE"}, {"SET", kEpochKey, std::to_string(epoch)}}, true);
  if (!replies) return replies.error();
  return {};
}

Status RedisNode::Follow(const std::string& host, int port) {
  auto replies = Pipeline({{"REPLICAOF", host, std::to_string(port)}}, true);
  if (!replies) return replies.error();
  return {};
}

Status RedisNode::Fence() { return Follow(opts_.fence_host, opts_.fence_port); }

Result<int64_t> RedisNode::LeaderOffset(const std::string& host, int port) {
  const std::string addr = host + ":" + std::to_string(port);
  if (!leader_conn_ || leader_conn_->broken() || leader_addr_ != addr) {
    leader_conn_.reset();
    redis::Endpoint ep = opts_.local;
    ep.host = host;
    ep.port = port;
    auto c = redis::Connection::Connect(ep, Options(opts_.timeout));
    if (!c) return c.error();
    leader_conn_ = std::move(*c);
    leader_addr_ = addr;
  }
  auto r = leader_conn_->Command({"INFO", "replication"});
  if (!r) {
    leader_conn_.reset();
    return r.error();
  }
  if (r->IsError()) return r->ToError();
  if (InfoField(r->str(), "role") != "master") {
    return Error(Errc::kUnavailable, addr + " is not a primary");
  }
  return ToInt(InfoField(r->str(), "master_repl_offset"));
}

}  // namespace walrus::elect
