#pragma once

// First-class Kafka security flags for commands that talk to Kafka (apply, produce), turned
// into librdkafka properties. The common production case is SASL_SSL + SCRAM-SHA-512 with a
// private CA; anything else still passes through `-X key=value` (which wins, being applied
// after these).
//
//   kafka::SecurityFlags sec;
//   kafka::AddSecurityFlags(cmd, &sec);          // --kafka-security-protocol, ... (+ env)
//   ... after parsing:
//   auto props = kafka::SecurityProperties(sec); // reads the password file / env
//   if (!props) throw std::invalid_argument(props.error().message);
//   // {"security.protocol","SASL_SSL"}, {"sasl.mechanisms","SCRAM-SHA-512"},
//   // {"sasl.username","app"}, {"sasl.password",...}, {"ssl.ca.location","/etc/ca.pem"}
//
// Flags (each also from WALRUS_<FLAG>): --kafka-security-protocol PLAINTEXT|SSL|SASL_PLAINTEXT|
// SASL_SSL, --kafka-sasl-mechanism (default SCRAM-SHA-512 when SASL), --kafka-username,
// --kafka-password-file (or the password itself in env WALRUS_KAFKA_PASSWORD), --kafka-ca-file.
//
// Threading: start-up only (the command's parsing thread).

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "kafka/types.h"

namespace CLI {
class App;
}

namespace walrus::kafka {

struct SecurityFlags {
  std::string protocol;       // empty: not set (librdkafka's default, PLAINTEXT)
  std::string mechanism;      // empty: SCRAM-SHA-512 when the protocol is SASL_*
  std::string username;
  std::string password_file;  // empty: env WALRUS_KAFKA_PASSWORD
  std::string ca_file;
};

// Registers the flags on `cmd`; `flags` must outlive parsing.
void AddSecurityFlags(CLI::App* cmd, SecurityFlags* flags);

// Validates the combination and returns the librdkafka properties (empty if nothing is set).
// kInvalidArgument naming the flag: a SASL protocol without username or password, a username
// without SASL, a CA file without SSL, an unreadable file, an unknown protocol or mechanism.
Result<Properties> SecurityProperties(const SecurityFlags& flags);

// Appends `-X key=value` style flag values to `out` (later entries win in librdkafka).
// kInvalidArgument "<flag> expects key=value, got '<kv>'" for an entry without a key.
Status AppendPropertyFlags(const std::vector<std::string>& kvs, std::string_view flag,
                           Properties& out);

}  // namespace walrus::kafka
