#include "redis/sentinel_locator.h"

#include <charconv>

#include "core/host_port.h"
#include "core/log.h"
#include "redis/connection.h"

namespace walrus::redis {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

bool ParsePort(std::string_view s, int* out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > 65535) return false;
  *out = v;
  return true;
}

ConnectOptions SentinelConnectOptions(const SentinelOptions& o) {
  ConnectOptions c;
  c.connect_timeout = o.connect_timeout;
  c.io_timeout = o.io_timeout;
  c.client_name = "walrus-sentinel";
  return c;
}

}  // namespace

Result<std::vector<Endpoint>> ParseSentinelList(const std::string& list, const Endpoint& auth) {
  std::vector<Endpoint> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = Trim(list.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    // The port is optional: "host" or "[v6]" alone means 26379.
    // Text that does not split (an unbracketed IPv6 host) is left to ParseRedisUrl to refuse.
    auto parts = SplitHostPort(item);
    const bool has_port = !parts || parts->has_port;
    auto ep = ParseRedisUrl(has_port ? item : item + ":" + std::to_string(kDefaultSentinelPort));
    if (!ep || item.find("://") != std::string::npos || item.find('@') != std::string::npos) {
      return Error(Errc::kInvalidArgument,
                   "--sentinel: '" + item + "' is not host:port" +
                       (ep ? "" : " (" + ep.error().message + ")"));
    }
    Endpoint s = auth;
    s.host = ep->host;
    s.port = ep->port;
    s.db = 0;
    out.push_back(std::move(s));
  }
  if (out.empty()) return Error(Errc::kInvalidArgument, "--sentinel: no sentinel address given");
  return out;
}

SentinelLocator::SentinelLocator(SentinelOptions opts)
    : opts_(std::move(opts)), order_(opts_.sentinels) {}

SentinelLocator::~SentinelLocator() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SentinelLocator::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Watch(); });
}

std::string SentinelLocator::Describe() const {
  std::string out = "sentinel master '" + opts_.master_name + "' via ";
  for (size_t i = 0; i < opts_.sentinels.size(); ++i) {
    if (i > 0) out += ",";
    out += HostPort(opts_.sentinels[i]);
  }
  return out;
}

Result<Endpoint> SentinelLocator::Ask() {
  std::vector<Endpoint> order;
  {
    std::lock_guard lock(mu_);
    order = order_;
  }
  std::string problems;
  for (size_t i = 0; i < order.size(); ++i) {
    const Endpoint& s = order[i];
    auto problem = [&](const std::string& what) {
      problems += (problems.empty() ? "" : "; ") + HostPort(s) + ": " + what;
    };
    auto conn = Connection::Connect(s, SentinelConnectOptions(opts_));
    if (!conn) {
      problem(conn.error().message);
      continue;
    }
    auto r = (*conn)->Command({"SENTINEL", "get-master-addr-by-name", opts_.master_name});
    if (!r) {
      problem(r.error().message);
      continue;
    }
    if (r->IsError()) {
      problem(std::string(r->str()));
      continue;
    }
    int port = 0;
    if (r->IsNil() || r->size() != 2 || !ParsePort(r->element(1).str(), &port)) {
      problem("does not know master '" + opts_.master_name + "'");
      continue;
    }
    if (i > 0) {  // rotate the working sentinel to the front
      std::lock_guard lock(mu_);
      for (size_t j = 0; j < order_.size(); ++j) {
        if (order_[j] == s) {
          Endpoint front = order_[j];
          order_.erase(order_.begin() + static_cast<long>(j));
          order_.insert(order_.begin(), std::move(front));
          break;
        }
      }
    }
    Endpoint ep = opts_.data;
    ep.host = std::string(r->element(0).str());
    ep.port = port;
    return ep;
  }
  return Error(Errc::kUnavailable,
               "no sentinel gave the address of master '" + opts_.master_name + "': " + problems);
}

Result<Endpoint> SentinelLocator::Locate() {
  auto ep = Ask();
  if (!ep) return ep;
  std::lock_guard lock(mu_);
  located_ = std::make_pair(ep->host, ep->port);
  changed_.store(false);
  return ep;
}

bool SentinelLocator::Changed() { return changed_.exchange(false); }

void SentinelLocator::Observe(const std::string& host, int port, const char* how) {
  std::lock_guard lock(mu_);
  if (!located_ || (located_->first == host && located_->second == port)) return;
  if (!changed_.exchange(true)) {
    Logger("redis")->warn("primary of '{}' moved from {}:{} to {}:{} ({})", opts_.master_name,
                          located_->first, located_->second, host, port, how);
  }
}

bool SentinelLocator::Pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_.load(); });
  return !stop_.load();
}

void SentinelLocator::Watch() {
  auto log = Logger("redis");
  size_t next = 0;
  std::string last_error;
  while (!stop_.load()) {
    Endpoint s;
    {
      std::lock_guard lock(mu_);
      // Prefer the sentinel Locate() found working; rotate on failures.
      s = order_[next % order_.size()];
    }
    const Status st = WatchOne(s);
    subscribed_.store(false);
    if (stop_.load()) break;
    if (!st && st.error().message != last_error) {
      log->warn("sentinel subscription on {} lost, trying the next sentinel: {}", HostPort(s),
                st.error().message);
      last_error = st.error().message;
    }
    ++next;
    if (!Pause(opts_.resubscribe_delay)) break;
  }
}

Status SentinelLocator::WatchOne(const Endpoint& s) {
  auto conn = Connection::Connect(s, SentinelConnectOptions(opts_));
  if (!conn) return conn.error();
  (*conn)->Append({"SUBSCRIBE", "+switch-master"});
  auto confirm = (*conn)->ReadReplies(1);
  if (!confirm) return confirm.error();
  if (confirm->front().IsError()) return confirm->front().ToError();
  subscribed_.store(true);
  // A switch announced while we were not subscribed: compare with what the sentinels say now.
  if (auto now = Ask(); now) Observe(now->host, now->port, "address re-checked");

  while (!stop_.load()) {
    auto msg = (*conn)->ReadPushed(std::chrono::milliseconds(200));
    if (!msg) {
      if (msg.error().Is(Errc::kTimeout)) continue;
      return msg.error();
    }
    // ["message", "+switch-master", "<name> <old-ip> <old-port> <new-ip> <new-port>"]
    if (msg->size() != 3 || msg->element(0).str() != "message") continue;
    const std::string text(msg->element(2).str());
    std::vector<std::string> f;
    for (size_t a = 0; a < text.size();) {
      size_t b = text.find(' ', a);
      if (b == std::string::npos) b = text.size();
      f.push_back(text.substr(a, b - a));
      a = b + 1;
    }
    int port = 0;
    if (f.size() != 5 || f[0] != opts_.master_name || !ParsePort(f[4], &port)) continue;
    switches_.fetch_add(1);
    Logger("redis")->info("sentinel {}: +switch-master {}", HostPort(s), text);
    Observe(f[3], port, "+switch-master");
  }
  return Status::Ok();
}

}  // namespace walrus::redis
