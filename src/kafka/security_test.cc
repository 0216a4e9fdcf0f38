// Unit tests of the Kafka security flags -> librdkafka properties.
#include "kafka/security.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

namespace walrus::kafka {
namespace {

Result<Properties> Parse(std::vector<std::string> args) {
  CLI::App app;
  SecurityFlags f;
  AddSecurityFlags(&app, &f);
  std::vector<const char*> argv{"walrus"};
  for (auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  return SecurityProperties(f);
}

std::string Get(const Properties& p, const std::string& k) {
  for (const auto& [key, v] : p) {
    if (key == k) return v;
  }
  return "<unset>";
}

TEST(KafkaSecurity, NothingSetIsEmpty) {
  unsetenv("WALRUS_KAFKA_PASSWORD");
  auto p = Parse({});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(p->empty());
}

TEST(KafkaSecurity, SaslSslScramFromFileAndEnv) {
  const std::string pw = ::testing::TempDir() + "/kafka-pw";
  const std::string ca = ::testing::TempDir() + "/kafka-ca.pem";
  std::ofstream(pw) << "s3cret\n";
  std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\n";
  auto p = Parse({"--kafka-security-protocol", "SASL_SSL", "--kafka-username", "app",
                  "--kafka-password-file", pw, "--kafka-ca-file", ca});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(Get(*p, "security.protocol"), "SASL_SSL");
  EXPECT_EQ(Get(*p, "sasl.mechanisms"), "SCRAM-SHA-512");  // the default
  EXPECT_EQ(Get(*p, "sasl.username"), "app");
  EXPECT_EQ(Get(*p, "sasl.password"), "s3cret");
  EXPECT_EQ(Get(*p, "ssl.ca.location"), ca);

  setenv("WALRUS_KAFKA_PASSWORD", "from-env", 1);
  p = Parse({"--kafka-security-protocol", "SASL_PLAINTEXT", "--kafka-username", "app",
             "--kafka-sasl-mechanism", "SCRAM-SHA-256"});
  unsetenv("WALRUS_KAFKA_PASSWORD");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(Get(*p, "sasl.password"), "from-env");
  EXPECT_EQ(Get(*p, "sasl.mechanisms"), "SCRAM-SHA-256");
  std::remove(pw.c_str());
  std::remove(ca.c_str());
}

TEST(KafkaSecurity, BadCombinationsNameTheFlag) {
  unsetenv("WALRUS_KAFKA_PASSWORD");
  auto expect_error = [](std::vector<std::string> args, const std::string& needle) {
    auto p = Parse(std::move(args));
    ASSERT_FALSE(p.ok()) << needle;
    EXPECT_TRUE(p.error().Is(Errc::kInvalidArgument));
    EXPECT_NE(p.error().message.find(needle), std::string::npos) << p.error().message;
  };
  expect_error({"--kafka-security-protocol", "TLS"}, "--kafka-security-protocol must be");
  expect_error({"--kafka-security-protocol", "SASL_SSL", "--kafka-username", "u"},
               "needs a password");
  expect_error({"--kafka-security-protocol", "SASL_SSL"}, "needs --kafka-username");
  expect_error({"--kafka-username", "u"}, "need --kafka-security-protocol SASL");
  expect_error({"--kafka-ca-file", "/etc/hostname"}, "--kafka-ca-file needs");
  expect_error({"--kafka-security-protocol", "SSL", "--kafka-ca-file", "/nonexistent/ca.pem"},
               "cannot read");
  expect_error({"--kafka-security-protocol", "SASL_SSL", "--kafka-username", "u",
                "--kafka-password-file", "/nonexistent/pw"},
               "--kafka-password-file: cannot read");
}

TEST(PropertyFlags, AppendsKeyValuesAndNamesTheFlagOnError) {
  Properties props = {{"a", "1"}};
  ASSERT_TRUE(AppendPropertyFlags({"b=2", "c=x=y", "d="}, "-X", props));
  EXPECT_EQ(props, (Properties{{"a", "1"}, {"b", "2"}, {"c", "x=y"}, {"d", ""}}));
  auto st = AppendPropertyFlags({"=v"}, "-X", props);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "-X expects key=value, got '=v'");
  EXPECT_FALSE(AppendPropertyFlags({"novalue"}, "-X", props));
}

}  // namespace
}  // namespace walrus::kafka
