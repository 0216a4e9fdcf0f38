#include "elect/etcd_backend.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <charconv>

#include "core/base64.h"
#include "core/log.h"

namespace walrus::elect {
namespace {

using json = nlohmann::json;

// etcd's gateway renders int64 as JSON strings and omits zero values.
int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) return 0;
  const std::string s = it->get<std::string>();
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string B64(const std::string& s) { return Base64Encode(s); }

// The end of the range of all keys starting with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto& c = prefix.back();
    if (static_cast<unsigned char>(c) < 0xff) {
      ++c;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace

std::string EncodeLeaderValue(const LeaderRecord& r) {
  return json{{"id", r.id}, {"advertise", r.advertise}, {"serving", r.serving}}.dump();
}

Result<LeaderRecord> DecodeLeaderValue(std::string_view text) {
  try {
    auto j = json::parse(text);
    LeaderRecord r;
    r.id = j.at("id").get<std::string>();
    r.advertise = j.at("advertise").get<std::string>();
    r.serving = j.value("serving", false);
    return r;
  } catch (const std::exception& e) {
    return Error(Errc::kDecode, std::string("leader record: ") + e.what());
  }
}

EtcdBackend::EtcdBackend(EtcdOptions opts)
    : opts_(std::move(opts)),
      leader_key_(opts_.prefix + opts_.name + "/leader"),
      epoch_key_(opts_.prefix + opts_.name + "/epoch") {
  for (const auto& ep : opts_.endpoints) clients_.push_back(MakeClient(ep, opts_.request_timeout));
  if (opts_.watch) watch_ = std::thread([this] { WatchLoop(); });
}

EtcdBackend::~EtcdBackend() {
  stop_.store(true);
  {
    std::lock_guard lock(mu_);
    if (watch_client_) watch_client_->stop();
  }
  Wake();
  if (watch_.joinable()) watch_.join();
}

std::string EtcdBackend::Describe() const {
  return fmt::format("etcd {} key {}", fmt::join(opts_.endpoints, ","), leader_key_);
}

std::unique_ptr<httplib::Client> EtcdBackend::MakeClient(
    const std::string& endpoint, std::chrono::milliseconds read_timeout) const {
  auto c = opts_.cert_file.empty() ? std::make_unique<httplib::Client>(endpoint)
                                   : std::make_unique<httplib::Client>(
                                         endpoint, opts_.cert_file,
                                         opts_.key_file.empty() ? opts_.cert_file : opts_.key_file);
  if (!opts_.ca_file.empty()) c->set_ca_cert_path(opts_.ca_file.c_str());
  c->set_connection_timeout(opts_.request_timeout);
  c->set_read_timeout(read_timeout);
  c->set_write_timeout(opts_.request_timeout);
  c->set_keep_alive(true);
  return c;
}

Result<json> EtcdBackend::Call(const std::string& path, const json& body) {
  const std::string text = body.dump();
  std::string last_error;
  // Every endpoint once, and at least twice in all: a kept-alive connection that the server
  // closed fails once.
  for (size_t attempt = 0; attempt < std::max<size_t>(2, clients_.size()); ++attempt) {
    auto& cli = *clients_[current_];
    auto res = cli.Post(path.c_str(), text, "application/json");
    if (!res) {
      last_error =
          fmt::format("{}{}: {}", opts_.endpoints[current_], path, httplib::to_string(res.error()));
      current_ = (current_ + 1) % clients_.size();
      continue;
    }
    json j = json::parse(res->body, nullptr, false);
    if (j.is_discarded()) {
      return Error(Errc::kUnavailable, fmt::format("{}{}: HTTP {} with a body that is not JSON",
                                                   opts_.endpoints[current_], path, res->status));
    }
    // Streaming endpoints (keepalive) wrap the message in "result" or "error".
    if (j.contains("result")) j = j["result"];
    const json& err = j.contains("error") && j["error"].is_object() ? j["error"] : j;
    if (res->status != 200 || j.contains("error")) {
      const int64_t code = Int(err, "code");
      const std::string msg = err.value("message", res->body);
      return Error(
          code == 5 ? Errc::kNotFound : Errc::kUnavailable,
          fmt::format("{}{}: HTTP {}: {}", opts_.endpoints[current_], path, res->status, msg));
    }
    return j;
  }
  return Error(Errc::kIo, last_error);
}

Result<Observation> EtcdBackend::Observe() {
  const std::string prefix = opts_.prefix + opts_.name + "/";
  auto r = Call("/v3/kv/range", {{"key", B64(prefix)}, {"range_end", B64(PrefixEnd(prefix))}});
  if (!r) return r.error();
  Observation obs;
  observed_epoch_ = observed_lease_ = 0;
  for (const auto& kv : r->value("kvs", json::array())) {
    auto key = Base64Decode(kv.value("key", ""));
    auto value = Base64Decode(kv.value("value", ""));
    if (!key || !value) return Error(Errc::kDecode, "etcd range: bad base64");
    if (*key == epoch_key_) {
      obs.last_epoch = std::max(obs.last_epoch, Int(kv, "mod_revision"));
    } else if (*key == leader_key_) {
      auto rec = DecodeLeaderValue(*value);
      if (!rec) return rec.error();
      rec->epoch = Int(kv, "create_revision");
      observed_epoch_ = rec->epoch;
      observed_lease_ = Int(kv, "lease");
      obs.last_epoch = std::max(obs.last_epoch, rec->epoch);
      obs.leader = std::move(*rec);
    }
  }
  return obs;
}

Result<Acquired> EtcdBackend::TryAcquire(const LeaderRecord& me) {
  auto grant = Call("/v3/lease/grant", {{"TTL", opts_.ttl.count()}});
  if (!grant) return grant.error();
  const int64_t lease = Int(*grant, "ID");
  if (lease == 0) return Error(Errc::kUnavailable, "etcd lease grant: no lease id");
  LeaderRecord rec = me;
  rec.serving = false;
  json txn = {{"compare", json::array({{{"key", B64(leader_key_)},
                                        {"target", "CREATE"},
                                        {"result", "EQUAL"},
                                        {"create_revision", "0"}}})},
              {"success",
               json::array({{{"request_put",
                              {{"key", B64(leader_key_)},
                               {"value", B64(EncodeLeaderValue(rec))},
                               {"lease", std::to_string(lease)}}}},
                            {{"request_put", {{"key", B64(epoch_key_)}, {"value", B64(me.id)}}}}})},
              {"failure", json::array()}};
  auto r = Call("/v3/kv/txn", txn);
  if (!r || !r->value("succeeded", false)) {
    (void)Revoke(lease);
    if (!r) return r.error();
    return Acquired{false, 0};
  }
  lease_ = lease;
  epoch_ = Int(r->value("header", json::object()), "revision");
  return Acquired{true, epoch_};
}

Status EtcdBackend::Renew() {
  if (lease_ == 0) return Error(Errc::kNotFound, "no lease held");
  auto r = Call("/v3/lease/keepalive", {{"ID", std::to_string(lease_)}});
  if (!r) {
    if (r.error().Is(Errc::kNotFound)) lease_ = 0;
    return r.error();
  }
  if (Int(*r, "TTL") <= 0) {
    const int64_t lease = lease_;
    lease_ = 0;
    return Error(Errc::kNotFound, fmt::format("etcd lease {:x} expired", lease));
  }
  // The key may have been deleted or replaced under the lease (an operator, a restore).
  auto g = Call("/v3/kv/range", {{"key", B64(leader_key_)}});
  if (!g) return g.error();
  const auto kvs = g->value("kvs", json::array());
  if (kvs.empty() || Int(kvs[0], "create_revision") != epoch_ || Int(kvs[0], "lease") != lease_) {
    (void)Revoke(lease_);
    lease_ = 0;
    return Error(Errc::kConflict,
                 fmt::format("etcd key {} is no longer ours (epoch {})", leader_key_, epoch_));
  }
  return {};
}

Status EtcdBackend::Publish(const LeaderRecord& me) {
  if (lease_ == 0) return Error(Errc::kNotFound, "no lease held");
  json txn = {{"compare", json::array({{{"key", B64(leader_key_)},
                                        {"target", "CREATE"},
                                        {"result", "EQUAL"},
                                        {"create_revision", std::to_string(epoch_)}}})},
              {"success", json::array({{{"request_put",
                                         {{"key", B64(leader_key_)},
                                          {"value", B64(EncodeLeaderValue(me))},
                                          {"lease", std::to_string(lease_)}}}}})},
              {"failure", json::array()}};
  auto r = Call("/v3/kv/txn", txn);
  if (!r) return r.error();
  if (!r->value("succeeded", false)) {
    return Error(Errc::kConflict, "etcd leader key changed under epoch " + std::to_string(epoch_));
  }
  return {};
}

Status EtcdBackend::Revoke(int64_t lease) {
  auto r = Call("/v3/lease/revoke", {{"ID", std::to_string(lease)}});
  if (!r && !r.error().Is(Errc::kNotFound)) return r.error();
  return {};
}

Status EtcdBackend::Release() {
  if (lease_ == 0) return {};
  const int64_t lease = lease_;
  lease_ = 0;
  return Revoke(lease);
}

Status EtcdBackend::ReleaseStale(const LeaderRecord& stale) {
  if (observed_epoch_ != stale.epoch || observed_lease_ == 0) {
    return Error(Errc::kConflict, "the stale record changed since it was observed");
  }
  return Revoke(observed_lease_);
}

// ---- watch ------------------------------------------------------------------------------------

void EtcdBackend::Notify() {
  std::lock_guard lock(mu_);
  changed_ = true;
  cv_.notify_all();
}

bool EtcdBackend::WaitForChange(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return changed_ || woken_; });
  const bool changed = changed_;
  changed_ = woken_ = false;
  return changed;
}

void EtcdBackend::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void EtcdBackend::WatchLoop() {
  size_t endpoint = 0;
  const std::string body = json{{"create_request", {{"key", B64(leader_key_)}}}}.dump();
  while (!stop_.load()) {
    // A quiet watch sends nothing: the read timeout just re-creates it (and its "created"
    // message wakes the elector once, which re-reads the state: nothing is missed across gaps).
    auto cli = MakeClient(opts_.endpoints[endpoint], std::chrono::seconds(10));
    {
      std::lock_guard lock(mu_);
      if (stop_.load()) break;
      watch_client_ = cli.get();
    }
    httplib::Request req;
    req.method = "POST";
    req.path = "/v3/watch";
    req.body = body;
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [this](const char*, size_t, uint64_t, uint64_t) {
      Notify();  // any message: created, events, progress
      return !stop_.load();
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool ok = cli->send(req, res, err);
    {
      std::lock_guard lock(mu_);
      watch_client_ = nullptr;
    }
    if (stop_.load()) break;
    if (!ok && err != httplib::Error::Read) {
      WALRUS_LOG_EVERY_MS(Logger("elect"), debug, 5000, "etcd watch on {}: {}",
                          opts_.endpoints[endpoint], httplib::to_string(err));
      endpoint = (endpoint + 1) % opts_.endpoints.size();
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_.load(); });
  }
}

}  // namespace walrus::elect
