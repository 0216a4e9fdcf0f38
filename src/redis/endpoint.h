#pragma once

// Where a Redis server is and how to log in: parsed from a redis:// or rediss:// URL.
//
//   auto ep = walrus::redis::ParseRedisUrl("redis://app:s%40cret@10.0.0.5:6380/2");
//   if (!ep) return ep.error();               // message names the problem
//   log->info("redis {}", Redacted(*ep));     // redis://app:***@10.0.0.5:6380/2
//
// Accepted forms (the same as redis-cli's -u):
//   redis://host                     port 6379, db 0
//   redis://host:port/db
//   redis://user:password@host:port  ACL user (AUTH user password)
//   redis://:password@host           default user (AUTH password)
//   redis://password@host            default user, as redis-cli reads it
//   redis://[::1]:6379               IPv6 literal in brackets
//   rediss://...                     tls = true (TLS settings: Endpoint::tls_config)
//   host:port                        bare form, no scheme
// User and password are percent-decoded ("%40" is '@').

#include <string>
#include <string_view>

#include "core/result.h"

namespace walrus::redis {

inline constexpr int kDefaultPort = 6379;

// How to speak TLS to a server (used when Endpoint::tls). Certificate verification is on by
// default; turning it off is for tests only.
struct TlsConfig {
  std::string ca_file;      // PEM CA bundle to trust; empty: the system's default trust store
  std::string cert_file;    // client certificate (PEM) for mutual TLS; empty: none
  std::string key_file;     // its private key (PEM); empty: cert_file holds it
  std::string server_name;  // SNI and the name to verify; empty: the endpoint's host
  bool verify = true;       // verify the server's certificate chain and name

  bool operator==(const TlsConfig&) const = default;
};

// A value type; copy freely. The password is a secret: log it only via Redacted().
struct Endpoint {
  std::string host = "127.0.0.1";
  int port = kDefaultPort;
  std::string user;      // empty: the default user
  std::string password;  // empty: no AUTH
  int db = 0;
  bool tls = false;
  TlsConfig tls_config;  // used only when tls

  bool operator==(const Endpoint&) const = default;
};

// Parses a Redis URL. Errors are Errc::kInvalidArgument with a message naming the problem
// (and never containing the password).
Result<Endpoint> ParseRedisUrl(std::string_view url);

// The endpoint as a URL for logs: the password, if any, is replaced by "***".
std::string Redacted(const Endpoint& ep);

// "host:port" ("[::1]:6379" for IPv6), for error messages.
std::string HostPort(const Endpoint& ep);

}  // namespace walrus::redis
