// Unit tests of WriteCheck: the applier's rules applied before a Write is produced.

#include "client/write_check.h"

#include <gtest/gtest.h>

namespace walrus::client {
namespace {

Write Single(std::string cmd, std::string key, std::vector<std::string> args) {
  Write w;
  w.ops.push_back({.cmd = std::move(cmd), .key = std::move(key), .args = std::move(args)});
  return w;
}

TEST(WriteCheckTest, NormalizesCommandNames) {
  Write w = Single("incrby", "sales:total", {"5"});
  NormalizeCommands(w);
  EXPECT_EQ(w.ops[0].cmd, "INCRBY");
  Write unknown = Single("frobnicate", "k", {});
  NormalizeCommands(unknown);
  EXPECT_EQ(unknown.ops[0].cmd, "frobnicate");
}

TEST(WriteCheckTest, EncodesValidWriteCanonically) {
  WriteCheck check;
  Write w = Single("SET", "orders:42", {"paid"});
  w.ops[0].ttl_ms = 30000;
  auto json = check.Encode(w);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(*json, R"({"cmd":"SET","key":"orders:42","args":["paid"],"ttl_ms":30000})");
}

TEST(WriteCheckTest, RefusesWhatTheApplierRefuses) {
  WriteCheck check;
  struct Case {
    Write w;
    std::string reason;  // a fragment of the message
  };
  Write both = Single("SET", "k", {"v"});
  both.ops[0].ttl_ms = 1000;
  both.ops[0].expire_at_ms = 1700000000000;
  std::vector<Case> cases = {
      {Single("FLUSHALL", "k", {}), "FLUSHALL"},
      {Single("SPOP", "k", {}), "SPOP"},
      {Single("SET", "k", {}), "SET"},       // arity
      {Single("HSET", "h", {"f"}), "HSET"},  // pairs
      {Single("SET", "", {"v"}), "empty key"},
      {Single("EXPIRE", "k", {"ten"}), ""},  // not an integer
      {both, "ttl_ms and expire_at_ms together"},
  };
  for (auto& c : cases) {
    NormalizeCommands(c.w);
    auto json = check.Encode(c.w);
    ASSERT_FALSE(json.ok()) << EncodeJson(c.w);
    EXPECT_TRUE(json.error().Is(Errc::kInvalidArgument));
    EXPECT_NE(json.error().message.find(c.reason), std::string::npos) << json.error().message;
  }
}

// Ops writing walrus's own keys (core/keyspace.h) are refused before they are produced, in
// every form: single op, multi member, any command case; look-alike user keys pass.
TEST(WriteCheckTest, RefusesWalrusOwnKeys) {
  WriteCheck check;
  std::vector<Write> refused = {
      Single("DEL", "walrus:pos:rw:0", {}),
      Single("set", "walrus:pos:rw:2", {"1000000"}),
      Single("Set", "walrus:epoch", {"99"}),
      Single("HSET", "walrus:m:{k}:k", {"t", "x"}),
      Single("ZADD", "walrus:c:{k}:k", {"1", "us"}),
      Single("SET", "walrus:src:us/us.events/3", {"999999999999999999"}),
      Single("SET", "walrus:hlc", {"ffffffffffff-ffff"}),
      Single("SET", std::string("walrus:\xff\x00", 9), {"v"}),  // binary: encoded as key_b64
  };
  for (Write& w : refused) {
    NormalizeCommands(w);
    Status shape = CheckShape(w);  // refused before anything depends on Kafka
    ASSERT_FALSE(shape.ok()) << EncodeJson(w);
    EXPECT_TRUE(shape.error().Is(Errc::kInvalidArgument));
    EXPECT_NE(shape.error().message.find("is reserved"), std::string::npos);
    auto json = check.Encode(w);  // and by the applier's decoder
    ASSERT_FALSE(json.ok()) << EncodeJson(w);
    EXPECT_TRUE(json.error().Is(Errc::kInvalidArgument));
    EXPECT_NE(json.error().message.find("is reserved: keys beginning with 'walrus:'"),
              std::string::npos)
        << json.error().message;
  }
  Write multi;
  multi.multi = true;
  multi.ops.push_back({.cmd = "INCRBY", .key = "walrus:{x}", .args = {"1"}});
  multi.ops.push_back({.cmd = "INCRBY", .key = "n:{x}", .args = {"1"}});
  Status shape = CheckShape(multi);
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.error().message.rfind("multi[0]: key 'walrus:{x}' is reserved", 0), 0u)
      << shape.error().message;
  auto m = check.Encode(multi);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message.rfind("multi[0]: key 'walrus:{x}' is reserved", 0), 0u)
      << m.error().message;
  for (const char* user : {"walrusx", "Walrus:pos:rw:0", "WALRUS:epoch", "{walrus:pos}:x"}) {
    EXPECT_TRUE(CheckShape(Single("DEL", user, {})).ok()) << user;
    EXPECT_TRUE(check.Encode(Single("DEL", user, {})).ok()) << user;
  }
}

TEST(WriteCheckTest, ShapeRules) {
  Write empty;
  EXPECT_FALSE(CheckShape(empty).ok());

  Write two = Single("SET", "a", {"1"});
  two.ops.push_back({.cmd = "SET", .key = "b", .args = {"2"}});
  auto st = CheckShape(two);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(Errc::kInvalidArgument));

  two.multi = true;  // a multi over two routing keys: refused, it could not be one partition
  st = CheckShape(two);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("multi[1]"), std::string::npos) << st.error().message;

  Write tagged;
  tagged.multi = true;
  tagged.ops.push_back({.cmd = "DECRBY", .key = "stock:{sku1}", .args = {"1"}});
  tagged.ops.push_back({.cmd = "RPUSH", .key = "orders:{sku1}", .args = {"o-77"}});
  EXPECT_TRUE(CheckShape(tagged).ok());
  WriteCheck check;
  EXPECT_TRUE(check.Encode(tagged).ok());
}

TEST(WriteCheckTest, OriginAndHlcMustBeWellFormed) {
  Write w = Single("SET", "k", {"v"});
  w.origin = "us east";
  EXPECT_FALSE(CheckShape(w).ok());
  w.origin = "us";
  w.hlc = "not-a-stamp";
  EXPECT_FALSE(CheckShape(w).ok());
  w.hlc = "018bcfe56800-0003";
  EXPECT_TRUE(CheckShape(w).ok());
}

}  // namespace
}  // namespace walrus::client
