#include "http/router.h"

#include <nlohmann/json.hpp>

namespace walrus::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  size_t at = 0;
  while (true) {
    const size_t slash = path.find('/', at);
    parts.push_back(path.substr(at, slash == std::string_view::npos ? slash : slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  return parts;
}

}  // namespace

void ReplyJson(Response& res, int status, std::string body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = std::move(body);
}

void ReplyError(Response& res, int status, std::string_view message) {
  ReplyJson(res, status,
            nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                    nlohmann::json::error_handler_t::replace));
}

void Router::Add(std::string method, std::string pattern, bool needs_auth, RouteHandler h,
                 Lane lane) {
  Route r{.method = std::move(method), .pattern = std::move(pattern), .needs_auth = needs_auth,
          .handler = std::move(h), .lane = lane};
  for (auto s : Split(r.pattern)) r.segments.emplace_back(s);
  for (Route& old : routes_) {
    if (old.method == r.method && old.pattern == r.pattern) {
      old = std::move(r);
      return;
    }
  }
  routes_.push_back(std::move(r));
}

bool Router::MatchPath(const Route& r, const std::vector<std::string_view>& parts, Params& out) {
  const auto& segs = r.segments;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& s = segs[i];
    if (!s.empty() && s[0] == '*') {
      if (i >= parts.size()) return false;
      std::string rest;
      for (size_t j = i; j < parts.size(); ++j) {
        if (j > i) rest += '/';
        rest += parts[j];
      }
      if (rest.empty()) return false;
      out[s.substr(1)] = std::move(rest);
      return true;
    }
    if (i >= parts.size()) return false;
    if (!s.empty() && s[0] == ':') {
      if (parts[i].empty()) return false;
      out[s.substr(1)] = std::string(parts[i]);
    } else if (s != parts[i]) {
      return false;
    }
  }
  return parts.size() == segs.size();
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  if (method == "HEAD") method = "GET";
  const auto parts = Split(path);
  Match m;
  for (const auto& r : routes_) {
    Params p;
    if (!MatchPath(r, parts, p)) continue;
    if (r.method == method) {
      m.route = &r;
      m.params = std::move(p);
      m.pattern = r.pattern;
      m.allow.clear();
      return m;
    }
    if (m.allow.find(r.method) == std::string::npos) {
      m.allow += (m.allow.empty() ? "" : ", ") + r.method;
    }
    m.pattern = r.pattern;
  }
  return m;
}

}  // namespace walrus::http
