#include "elect/kube_backend.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace walrus::elect {
namespace {

using json = nlohmann::json;

constexpr const char* kAdvertise = "walrus.io/advertise";
constexpr const char* kServing = "walrus.io/serving";

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

int64_t Transitions(const json& lease) {
  return lease.value("spec", json::object()).value("leaseTransitions", int64_t{0});
}

std::string Holder(const json& lease) {
  const auto spec = lease.value("spec", json::object());
  auto it = spec.find("holderIdentity");
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string KubeMicroTime() {
  const auto now = std::chrono::system_clock::now();
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z",
                     std::chrono::time_point_cast<std::chrono::seconds>(now), us);
}

void ResolveInCluster(KubeOptions& o) {
  if (o.api_server.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host) {
      throw std::invalid_argument(
          "--k8s-api: not given and KUBERNETES_SERVICE_HOST is not set (not in a pod?)");
    }
    const std::string h = host;
    o.api_server =
        fmt::format("https://{}:{}", h.find(':') != std::string::npos ? "[" + h + "]" : h,
                    port && *port ? port : "443");
  }
  if (o.name_space.empty()) {
    o.name_space = ReadTrimmed(std::string(kServiceAccountDir) + "/namespace");
    if (o.name_space.empty()) {
      throw std::invalid_argument("--k8s-namespace: not given and " +
                                  std::string(kServiceAccountDir) + "/namespace is unreadable");
    }
  }
}

KubeBackend::KubeBackend(KubeOptions opts) : opts_(std::move(opts)) {
  client_ = std::make_unique<httplib::Client>(opts_.api_server);
  if (opts_.api_server.rfind("https://", 0) == 0) {
    client_->set_ca_cert_path(opts_.ca_file.c_str());
    client_->enable_server_certificate_verification(true);
  }
  client_->set_connection_timeout(opts_.request_timeout);
  client_->set_read_timeout(opts_.request_timeout);
  client_->set_write_timeout(opts_.request_timeout);
  client_->set_keep_alive(true);
}

KubeBackend::~KubeBackend() = default;

std::string KubeBackend::Describe() const {
  return fmt::format("kubernetes {} lease {}/{}", opts_.api_server, opts_.name_space, opts_.name);
}

std::string KubeBackend::ItemPath() const {
  return fmt::format("/apis/coordination.k8s.io/v1/namespaces/{}/leases/{}", opts_.name_space,
                     opts_.name);
}

Result<KubeBackend::Answer> KubeBackend::Request(const std::string& method, const std::string& path,
                                                 const json* body) {
  httplib::Headers headers{{"Accept", "application/json"}};
  const std::string token = ReadTrimmed(opts_.token_file);
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  const std::string text = body ? body->dump() : std::string();
  // One retry on a transport error: a kept-alive connection the server closed fails once.
  for (int attempt = 0; attempt < 2 && !res; ++attempt) {
    if (method == "GET") {
      res = client_->Get(path.c_str(), headers);
    } else if (method == "POST") {
      res = client_->Post(path.c_str(), headers, text, "application/json");
    } else {
      res = client_->Put(path.c_str(), headers, text, "application/json");
    }
  }
  if (!res) {
    return Error(Errc::kIo, fmt::format("{} {}{}: {}", method, opts_.api_server, path,
                                        httplib::to_string(res.error())));
  }
  Answer a;
  a.status = res->status;
  a.body = json::parse(res->body, nullptr, false);
  if (a.status == 401 || a.status == 403) {
    return Error(Errc::kAuth, fmt::format("{} {}: HTTP {}: {}", method, path, a.status,
                                          a.body.is_object() ? a.body.value("message", "") : ""));
  }
  if (a.status >= 500 || a.body.is_discarded()) {
    return Error(Errc::kUnavailable, fmt::format("{} {}: HTTP {}", method, path, a.status));
  }
  return a;
}

void KubeBackend::Seen(const json& lease) {
  const std::string rv = lease.value("metadata", json::object()).value("resourceVersion", "");
  if (rv != observed_rv_) {
    observed_rv_ = rv;
    observed_at_ = std::chrono::steady_clock::now();
  }
  last_ = lease;
}

Result<json> KubeBackend::Get() {
  auto a = Request("GET", ItemPath(), nullptr);
  if (!a) return a.error();
  if (a->status == 404) {
    last_ = nullptr;
    observed_rv_.clear();
    return json(nullptr);
  }
  if (a->status != 200) {
    return Error(Errc::kUnavailable, fmt::format("GET lease: HTTP {}", a->status));
  }
  Seen(a->body);
  return a->body;
}

bool KubeBackend::Holds(const json& lease) const {
  return Holder(lease) == self_.id && Transitions(lease) == self_.epoch;
}

Result<Observation> KubeBackend::Observe() {
  auto lease = Get();
  if (!lease) return lease.error();
  Observation obs;
  if (lease->is_null()) return obs;
  obs.last_epoch = Transitions(*lease);
  const std::string holder = Holder(*lease);
  const auto spec = lease->value("spec", json::object());
  const auto duration = std::chrono::seconds(spec.value("leaseDurationSeconds", int64_t{0}));
  if (holder.empty() || std::chrono::steady_clock::now() >= observed_at_ + duration) return obs;
  const auto ann = lease->value("metadata", json::object()).value("annotations", json::object());
  obs.leader = LeaderRecord{holder, ann.value(kAdvertise, ""), ann.value(kServing, "") == "true",
                            obs.last_epoch};
  return obs;
}

Result<KubeBackend::Answer> KubeBackend::Put(const json& lease) {
  auto a = Request("PUT", ItemPath(), &lease);
  if (a && a->status == 200) Seen(a->body);
  return a;
}

Result<Acquired> KubeBackend::TryAcquire(const LeaderRecord& me) {
  // Based on the object the elector just observed: the resourceVersion makes the write fail
  // (409) if anyone changed it since, e.g. another candidate that was faster.
  if (!last_.is_null() && !Holder(last_).empty()) {
    const auto duration = std::chrono::seconds(
        last_.value("spec", json::object()).value("leaseDurationSeconds", int64_t{0}));
    if (std::chrono::steady_clock::now() < observed_at_ + duration) return Acquired{false, 0};
  }
  const std::string now = KubeMicroTime();
  json lease = last_.is_null()
                   ? json{{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", opts_.name}, {"namespace", opts_.name_space}}}}
                   : last_;
  const int64_t epoch = Transitions(lease) + 1;
  lease["metadata"]["annotations"][kAdvertise] = me.advertise;
  lease["metadata"]["annotations"][kServing] = "false";
  lease["spec"]["holderIdentity"] = me.id;
  lease["spec"]["leaseDurationSeconds"] = opts_.ttl.count();
  lease["spec"]["acquireTime"] = now;
  lease["spec"]["renewTime"] = now;
  lease["spec"]["leaseTransitions"] = epoch;
  Result<Answer> a = Error(Errc::kInternal, "");
  if (last_.is_null()) {
    a = Request("POST",
                fmt::format("/apis/coordination.k8s.io/v1/namespaces/{}/leases", opts_.name_space),
                &lease);
    if (a && a->status == 201) Seen(a->body);
  } else {
    a = Put(lease);
  }
  if (!a) return a.error();
  if (a->status == 409) return Acquired{false, 0};  // someone else wrote first
  if (a->status != 200 && a->status != 201) {
    return Error(Errc::kUnavailable, fmt::format("acquiring the lease: HTTP {}", a->status));
  }
  holding_ = true;
  self_ = me;
  self_.epoch = epoch;
  return Acquired{true, epoch};
}

Status KubeBackend::Update(const std::function<void(json&)>& edit) {
  if (!holding_ || last_.is_null()) return Error(Errc::kNotFound, "no lease held");
  for (int attempt = 0; attempt < 2; ++attempt) {
    json lease = last_;
    edit(lease);
    auto a = Put(lease);
    if (!a) return a.error();
    if (a->status == 200) return {};
    if (a->status == 404) {
      holding_ = false;
      return Error(Errc::kNotFound, "the lease object was deleted");
    }
    if (a->status != 409) {
      return Error(Errc::kUnavailable, fmt::format("updating the lease: HTTP {}", a->status));
    }
    // 409: the object changed. Still ours (same holder and transitions)? Then retry on it.
    auto cur = Get();
    if (!cur) return cur.error();
    if (cur->is_null() || !Holds(*cur)) {
      holding_ = false;
      return Error(
          Errc::kConflict,
          fmt::format("the lease was taken over (holder '{}', transitions {})",
                      cur->is_null() ? "" : Holder(*cur), cur->is_null() ? 0 : Transitions(*cur)));
    }
  }
  return Error(Errc::kUnavailable, "the lease keeps changing under concurrent updates");
}

Status KubeBackend::Renew() {
  return Update([](json& l) { l["spec"]["renewTime"] = KubeMicroTime(); });
}

Status KubeBackend::Publish(const LeaderRecord& me) {
  return Update([&](json& l) {
    l["spec"]["renewTime"] = KubeMicroTime();
    l["metadata"]["annotations"][kAdvertise] = me.advertise;
    l["metadata"]["annotations"][kServing] = me.serving ? "true" : "false";
  });
}

Status KubeBackend::Release() {
  if (!holding_) return {};
  auto st = Update([](json& l) {
    l["spec"]["holderIdentity"] = "";
    l["spec"]["leaseDurationSeconds"] = 1;
    l["spec"]["renewTime"] = KubeMicroTime();
    l["metadata"]["annotations"][kServing] = "false";
  });
  holding_ = false;
  if (!st && st.error().Is(Errc::kConflict)) return {};  // not ours any more: nothing to release
  return st;
}

Status KubeBackend::ReleaseStale(const LeaderRecord& stale) {
  auto cur = Get();
  if (!cur) return cur.error();
  if (cur->is_null() || Holder(*cur) != stale.id || Transitions(*cur) != stale.epoch) return {};
  json lease = *cur;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["metadata"]["annotations"][kServing] = "false";
  auto a = Put(lease);
  if (!a) return a.error();
  if (a->status != 200) {
    return Error(Errc::kConflict, fmt::format("releasing the stale lease: HTTP {}", a->status));
  }
  return {};
}

bool KubeBackend::WaitForChange(std::chrono::milliseconds timeout) {
  // No watch: the elector polls every renew interval (client-go's leader election polls too).
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return woken_; });
  woken_ = false;
  return false;
}

void KubeBackend::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

}  // namespace walrus::elect
