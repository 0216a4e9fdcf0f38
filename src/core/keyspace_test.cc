// The reserved key namespace (keyspace.h): which keys are walrus's own, and that every decode and
// plan path refuses an op writing one, for every allowed command, in a multi, via key_b64 /
// args_b64 and as a tombstone, while user keys that merely look alike stay allowed.

#include "core/keyspace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/command_table.h"
#include "core/json_codec.h"
#include "core/planner.h"

namespace walrus {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Valid arguments for every allowed command (the test checks that none is missing).
const std::map<std::string, std::vector<std::string>>& SampleArgs() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"APPEND", {"x"}},
      {"DECR", {}},
      {"DECRBY", {"1"}},
      {"DEL", {}},
      {"EXPIRE", {"10"}},
      {"EXPIREAT", {"2000000000"}},
      {"GETDEL", {}},
      {"GETEX", {}},
      {"GETSET", {"v"}},
      {"HDEL", {"f"}},
      {"HINCRBY", {"f", "1"}},
      {"HINCRBYFLOAT", {"f", "1.5"}},
      {"HMSET", {"f", "v"}},
      {"HSET", {"f", "v"}},
      {"HSETNX", {"f", "v"}},
      {"INCR", {}},
      {"INCRBY", {"5"}},
      {"INCRBYFLOAT", {"1.5"}},
      {"LINSERT", {"BEFORE", "p", "v"}},
      {"LPOP", {}},
      {"LPUSH", {"a"}},
      {"LPUSHX", {"a"}},
      {"LREM", {"0", "a"}},
      {"LSET", {"0", "a"}},
      {"LTRIM", {"0", "-1"}},
      {"PERSIST", {}},
      {"PEXPIRE", {"1000"}},
      {"PEXPIREAT", {"2000000000000"}},
      {"PFADD", {"a"}},
      {"PSETEX", {"1000", "v"}},
      {"RPOP", {}},
      {"RPUSH", {"a"}},
      {"RPUSHX", {"a"}},
      {"SADD", {"m"}},
      {"SET", {"v"}},
      {"SETBIT", {"7", "1"}},
      {"SETEX", {"10", "v"}},
      {"SETNX", {"v"}},
      {"SETRANGE", {"0", "v"}},
      {"SREM", {"m"}},
      {"UNLINK", {}},
      {"XADD", {"*", "f", "v"}},
      {"XDEL", {"1-1"}},
      {"XTRIM", {"MAXLEN", "10"}},
      {"ZADD", {"1", "m"}},
      {"ZINCRBY", {"1", "m"}},
      {"ZPOPMAX", {}},
      {"ZPOPMIN", {}},
      {"ZREM", {"m"}},
      {"ZREMRANGEBYLEX", {"[a", "[z"}},
      {"ZREMRANGEBYRANK", {"0", "-1"}},
      {"ZREMRANGEBYSCORE", {"0", "10"}},
  };
  return m;
}

// The JSON of one op with the given command (any case), key and args.
std::string OpJson(std::string_view cmd, std::string_view key,
                   const std::vector<std::string>& args) {
  Op op{.cmd = std::string(cmd), .key = std::string(key), .args = args};
  return EncodeJson(op);
}

TEST(Keyspace, ReservedIsTheLiteralCaseSensitivePrefix) {
  EXPECT_EQ(kReservedPrefix, "walrus:");
  for (std::string_view k : {"walrus:", "walrus:pos:rw:0", "walrus:pos:us.events:0",
                             "walrus:src:us/us.events/3", "walrus:epoch", "walrus:hlc",
                             "walrus:m:{k}:k", "walrus:c:{k}:k", "walrus:anything-later"}) {
    EXPECT_TRUE(IsReservedKey(k)) << k;
  }
  // Redis keys are case-sensitive: only the exact bytes "walrus:" at the start are ours.
  for (std::string_view k : {"walrus", "walrusx", "walrus_pos", "Walrus:pos:rw:0", "WALRUS:epoch",
                             "wAlrus:hlc", " walrus:pos", "xwalrus:pos", "{walrus:pos}:x",
                             "{walrus:}", "walrus;pos", "user:walrus:pos", ""}) {
    EXPECT_FALSE(IsReservedKey(k)) << k;
  }
  static_assert(IsReservedKey("walrus:epoch") && !IsReservedKey("Walrus:epoch"));
}

TEST(Keyspace, CheckOpKeysNamesTheKeyAndTheNamespace) {
  EXPECT_TRUE(CheckOpKeys(Op{.cmd = "SET", .key = "walrusx", .args = {"walrus:pos:t:0"}}));
  Status st = CheckOpKeys(Op{.cmd = "DEL", .key = "walrus:pos:rw:0"});
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kRefused));
  EXPECT_EQ(st.error().message,
            "key 'walrus:pos:rw:0' is reserved: keys beginning with 'walrus:' are walrus's own "
            "state (positions, source coordinates, epoch, hlc, crdt sidecars) and no op may "
            "write them");
  // Binary keys are quoted printably.
  Status bin = CheckOpKeys(Op{.cmd = "DEL", .key = std::string("walrus:\x01", 8)});
  ASSERT_FALSE(bin);
  EXPECT_THAT(bin.error().message, StartsWith("key 'walrus:\\x01' is reserved"));
}

TEST(Keyspace, SampleArgsCoverTheAllowList) {
  for (const CommandSpec& spec : AllCommands()) {
    EXPECT_TRUE(SampleArgs().contains(std::string(spec.name))) << spec.name;
  }
  EXPECT_EQ(SampleArgs().size(), AllCommands().size());
}

// Every allowed command, in upper, lower and mixed case: accepted on a user key, refused (with
// the reserved-key reason, not some other one) on each kind of reserved key.
TEST(Keyspace, DecoderRefusesEveryCommandOnReservedKeys) {
  JsonDecoder dec;
  for (const auto& [name, args] : SampleArgs()) {
    std::string lower = name, mixed = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    mixed[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(mixed[0])));
    for (const std::string& cmd : {name, lower, mixed}) {
      const std::string user = OpJson(cmd, "Walrus:pos:t:0", args);
      auto ok = dec.Decode("Walrus:pos:t:0", user);
      EXPECT_TRUE(ok) << user << ": " << (ok ? "" : ok.error().message);
      for (std::string_view key : {"walrus:pos:t:0", "walrus:src:us/us.events/3", "walrus:epoch",
                                   "walrus:hlc", "walrus:m:{k}:k", "walrus:c:{k}:k", "walrus:"}) {
        const std::string json = OpJson(cmd, key, args);
        auto w = dec.Decode(std::nullopt, json);
        ASSERT_FALSE(w) << json;
        EXPECT_TRUE(w.error().Is(Errc::kRefused)) << json << ": " << w.error().message;
        EXPECT_EQ(w.error().message, ReservedKeyMessage(key)) << json;
        // The record key (the producer keys by the op's key) changes nothing.
        auto keyed = dec.Decode(key, json);
        ASSERT_FALSE(keyed);
        EXPECT_EQ(keyed.error().message, ReservedKeyMessage(key)) << json;
      }
    }
  }
}

// The reserved-key reason wins over other problems of the same op (the op is refused either
// way; this way the dead letter says what matters).
TEST(Keyspace, ReservedReasonComesBeforeArityAndTtl) {
  JsonDecoder dec;
  auto arity = dec.Decode(std::nullopt, R"({"cmd":"SET","key":"walrus:epoch","args":[]})");
  ASSERT_FALSE(arity);
  EXPECT_THAT(arity.error().message, StartsWith("key 'walrus:epoch' is reserved"));
  auto ttl =
      dec.Decode(std::nullopt, R"({"cmd":"SET","key":"walrus:epoch","args":["99"],"ttl_ms":-1})");
  ASSERT_FALSE(ttl);
  EXPECT_THAT(ttl.error().message, StartsWith("key 'walrus:epoch' is reserved"));
}

TEST(Keyspace, MultiMembersAreChecked) {
  JsonDecoder dec;
  auto w = dec.Decode(std::nullopt, R"({"multi":[
      {"cmd":"INCRBY","key":"{t}:n","args":["1"]},
      {"cmd":"set","key":"walrus:epoch","args":["99"]},
      {"cmd":"INCRBY","key":"{t}:m","args":["1"]}]})");
  ASSERT_FALSE(w);
  EXPECT_TRUE(w.error().Is(Errc::kRefused));
  EXPECT_EQ(w.error().message, "multi[1]: " + ReservedKeyMessage("walrus:epoch"));
  // The first member too, and a member given by key_b64.
  auto first = dec.Decode(std::nullopt, R"({"multi":[{"cmd":"DEL","key":"walrus:pos:rw:0"},
                                                     {"cmd":"DEL","key":"k"}]})");
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().message, "multi[0]: " + ReservedKeyMessage("walrus:pos:rw:0"));
  const std::string b64 = Base64Encode("walrus:hlc");
  auto enc =
      dec.Decode(std::nullopt,
                 R"({"multi":[{"cmd":"DEL","key":"k"},{"cmd":"DEL","key_b64":")" + b64 + R"("}]})");
  ASSERT_FALSE(enc);
  EXPECT_EQ(enc.error().message, "multi[1]: " + ReservedKeyMessage("walrus:hlc"));
  // A multi of user keys only is fine.
  EXPECT_TRUE(dec.Decode(std::nullopt, R"({"multi":[{"cmd":"DEL","key":"walrusx"},
                                                    {"cmd":"DEL","key":"Walrus:epoch"}]})"));
}

TEST(Keyspace, BinaryFormsAreDecodedFirst) {
  JsonDecoder dec;
  // key_b64 naming a reserved key.
  const std::string json =
      R"({"cmd":"SET","key_b64":")" + Base64Encode("walrus:pos:rw:2") + R"(","args":["1000000"]})";
  auto w = dec.Decode(std::nullopt, json);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message, ReservedKeyMessage("walrus:pos:rw:2"));
  // args_b64 beside a reserved key: still refused, the args decoded first.
  const std::string with_b64 =
      R"({"cmd":"SET","key":"walrus:pos:rw:2","args_b64":[")" + Base64Encode("1000000") + R"("]})";
  auto a = dec.Decode(std::nullopt, with_b64);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message, ReservedKeyMessage("walrus:pos:rw:2"));
  // Values, fields and members are data, not keys: "walrus:..." there is fine.
  EXPECT_TRUE(dec.Decode(std::nullopt, R"({"cmd":"SET","key":"k","args_b64":[")" +
                                           Base64Encode("walrus:pos:rw:2") + R"("]})"));
  EXPECT_TRUE(
      dec.Decode(std::nullopt, R"({"cmd":"HSET","key":"h","args":["walrus:epoch","walrus:hlc"]})"));
  EXPECT_TRUE(dec.Decode(std::nullopt, R"({"cmd":"SADD","key":"s","args":["walrus:m:{k}:k"]})"));
}

TEST(Keyspace, TombstoneOfAReservedKeyIsRefused) {
  JsonDecoder dec;
  auto w = dec.Decode("walrus:pos:rw:0", std::nullopt);
  ASSERT_FALSE(w);
  EXPECT_TRUE(w.error().Is(Errc::kRefused));
  EXPECT_EQ(w.error().message, ReservedKeyMessage("walrus:pos:rw:0"));
  auto user = dec.Decode("Walrus:pos:rw:0", std::nullopt);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->ops[0].key, "Walrus:pos:rw:0");
}

// A decoder that forgets the check is still safe: CheckOp and PlanOp refuse too, and leave the
// output as it was.
TEST(Keyspace, PlannerRefusesToo) {
  Op op{.cmd = "SET", .key = "walrus:pos:rw:2", .args = {"1000000"}};
  Status check = CheckOp(op);
  ASSERT_FALSE(check);
  EXPECT_TRUE(check.error().Is(Errc::kRefused));
  EXPECT_EQ(check.error().message, ReservedKeyMessage("walrus:pos:rw:2"));
  std::vector<Argv> out = {{"PING"}};
  Status plan = PlanOp(op, 1700000000000, out);
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, HasSubstr("'walrus:pos:rw:2' is reserved"));
  EXPECT_EQ(out, (std::vector<Argv>{{"PING"}}));
  op.key = "walrus_pos:rw:2";
  EXPECT_TRUE(PlanOp(op, 1700000000000, out));
}

}  // namespace
}  // namespace walrus
