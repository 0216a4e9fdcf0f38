#include "kafka/security.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace walrus::kafka {
namespace {

Error Bad(const std::string& msg) { return Error(Errc::kInvalidArgument, msg); }

bool OneOf(const std::string& v, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (v == o) return true;
  }
  return false;
}

}  // namespace

void AddSecurityFlags(CLI::App* cmd, SecurityFlags* f) {
  cmd->add_option("--kafka-security-protocol", f->protocol,
                  "Kafka security.protocol: PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL")
      ->envname("WALRUS_KAFKA_SECURITY_PROTOCOL");
  cmd->add_option("--kafka-sasl-mechanism", f->mechanism,
                  "SASL mechanism: SCRAM-SHA-512 (default with SASL)|SCRAM-SHA-256|PLAIN")
      ->envname("WALRUS_KAFKA_SASL_MECHANISM");
  cmd->add_option("--kafka-username", f->username, "SASL user name")
      ->envname("WALRUS_KAFKA_USERNAME");
  cmd->add_option("--kafka-password-file", f->password_file,
                  "File holding the SASL password (or the password in env WALRUS_KAFKA_PASSWORD)")
      ->envname("WALRUS_KAFKA_PASSWORD_FILE");
  cmd->add_option("--kafka-ca-file", f->ca_file,
                  "PEM CA bundle to verify the brokers' certificates (SSL, SASL_SSL)")
      ->envname("WALRUS_KAFKA_CA_FILE");
}

Result<Properties> SecurityProperties(const SecurityFlags& f) {
  Properties props;
  const std::string& proto = f.protocol;
  if (!proto.empty() && !OneOf(proto, {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"})) {
    return Bad("--kafka-security-protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got '" +
               proto + "'");
  }
  const bool sasl = proto.rfind("SASL_", 0) == 0;
  const bool ssl = proto == "SSL" || proto == "SASL_SSL";
  std::string password;
  if (!f.password_file.empty()) {
    std::ifstream in(f.password_file);
    if (!in) return Bad("--kafka-password-file: cannot read '" + f.password_file + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    password = ss.str();
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
      password.pop_back();
    }
  } else if (const char* env = std::getenv("WALRUS_KAFKA_PASSWORD")) {
    password = env;
  }
  if (!sasl) {
    if (!f.username.empty() || !f.mechanism.empty() || !f.password_file.empty()) {
      return Bad("--kafka-username/--kafka-sasl-mechanism/--kafka-password-file need "
                 "--kafka-security-protocol SASL_SSL or SASL_PLAINTEXT");
    }
  } else {
    const std::string mech = f.mechanism.empty() ? "SCRAM-SHA-512" : f.mechanism;
    if (!OneOf(mech, {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"})) {
      return Bad("--kafka-sasl-mechanism must be SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN, got '" +
                 mech + "'");
    }
    if (f.username.empty()) return Bad("--kafka-security-protocol " + proto + " needs --kafka-username");
    if (password.empty()) {
      return Bad("--kafka-security-protocol " + proto +
                 " needs a password: --kafka-password-file or env WALRUS_KAFKA_PASSWORD");
    }
  }
  if (!f.ca_file.empty()) {
    if (!ssl) return Bad("--kafka-ca-file needs --kafka-security-protocol SSL or SASL_SSL");
    if (!std::ifstream(f.ca_file)) return Bad("--kafka-ca-file: cannot read '" + f.ca_file + "'");
  }
  if (!proto.empty()) props.emplace_back("security.protocol", proto);
  if (sasl) {
    props.emplace_back("sasl.mechanisms", f.mechanism.empty() ? "SCRAM-SHA-512" : f.mechanism);
    props.emplace_back("sasl.username", f.username);
    props.emplace_back("sasl.password", password);
  }
  if (!f.ca_file.empty()) props.emplace_back("ssl.ca.location", f.ca_file);
  return props;
}

Status AppendPropertyFlags(const std::vector<std::string>& kvs, std::string_view flag,
                           Properties& out) {
  for (const auto& kv : kvs) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(Errc::kInvalidArgument,
                   std::string(flag) + " expects key=value, got '" + kv + "'");
    }
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return {};
}

}  // namespace walrus::kafka
