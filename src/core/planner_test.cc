#include "core/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace walrus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kTs = 1700000000000;  // record timestamp used throughout

Op MakeOp(std::string cmd, std::string key, std::vector<std::string> args = {}) {
  Op op;
  op.cmd = std::move(cmd);
  op.key = std::move(key);
  op.args = std::move(args);
  return op;
}

std::vector<Argv> Plan(const Op& op, int64_t ts = kTs) {
  std::vector<Argv> out;
  Status st = PlanOp(op, ts, out);
  EXPECT_TRUE(st) << (st ? "" : st.error().message);
  return out;
}

std::string Refusal(const Op& op, int64_t ts = kTs) {
  std::vector<Argv> out = {{"PING"}};
  Status st = PlanOp(op, ts, out);
  EXPECT_FALSE(st);
  if (st) return "";
  EXPECT_TRUE(st.error().Is(Errc::kRefused)) << st.error().message;
  EXPECT_EQ(out.size(), 1u) << "output must be untouched on error";
  return st.error().message;
}

TEST(Planner, PassThrough) {
  EXPECT_THAT(Plan(MakeOp("HSET", "u:1", {"name", "alice"})),
              ElementsAre(Argv{"HSET", "u:1", "name", "alice"}));
  EXPECT_THAT(Plan(MakeOp("incr", "c")), ElementsAre(Argv{"INCR", "c"}));  // canonical name
  EXPECT_THAT(Plan(MakeOp("DEL", "k")), ElementsAre(Argv{"DEL", "k"}));
}

TEST(Planner, AppendsToExistingOutput) {
  std::vector<Argv> out = {{"MULTI"}};
  ASSERT_TRUE(PlanOp(MakeOp("SADD", "s", {"a"}), kTs, out));
  EXPECT_THAT(out, ElementsAre(Argv{"MULTI"}, Argv{"SADD", "s", "a"}));
}

TEST(Planner, TtlOnSetBecomesPxat) {
  Op op = MakeOp("SET", "s:9", {"x"});
  op.ttl_ms = 30000;
  EXPECT_THAT(Plan(op), ElementsAre(Argv{"SET", "s:9", "x", "PXAT", "1700000030000"}));
  // Same result however late it is applied: only the record timestamp matters.
  EXPECT_EQ(Plan(op), Plan(op));
  op.args = {"x", "NX", "GET"};
  EXPECT_THAT(Plan(op), ElementsAre(Argv{"SET", "s:9", "x", "NX", "GET", "PXAT", "1700000030000"}));
}

TEST(Planner, ExpireAtOnSetAndOthers) {
  Op op = MakeOp("SET", "k", {"v"});
  op.expire_at_ms = 1800000000000;
  EXPECT_THAT(Plan(op), ElementsAre(Argv{"SET", "k", "v", "PXAT", "1800000000000"}));
  Op h = MakeOp("HSET", "h", {"f", "v"});
  h.expire_at_ms = 1800000000000;
  EXPECT_THAT(Plan(h),
              ElementsAre(Argv{"HSET", "h", "f", "v"}, Argv{"PEXPIREAT", "h", "1800000000000"}));
}

TEST(Planner, TtlOnOtherCommandsAddsPexpireat) {
  Op op = MakeOp("INCRBY", "c", {"5"});
  op.ttl_ms = 1000;
  EXPECT_THAT(Plan(op),
              ElementsAre(Argv{"INCRBY", "c", "5"}, Argv{"PEXPIREAT", "c", "1700000001000"}));
}

TEST(Planner, SetnxWithTtlIsAtomicSetNx) {
  Op op = MakeOp("SETNX", "k", {"v"});
  EXPECT_THAT(Plan(op), ElementsAre(Argv{"SETNX", "k", "v"}));
  op.ttl_ms = 5;
  EXPECT_THAT(Plan(op), ElementsAre(Argv{"SET", "k", "v", "NX", "PXAT", "1700000000005"}));
}

TEST(Planner, SetRelativeExpiryOptionsBecomeAbsolute) {
  EXPECT_THAT(Plan(MakeOp("SET", "k", {"v", "EX", "10"})),
              ElementsAre(Argv{"SET", "k", "v", "PXAT", "1700000010000"}));
  EXPECT_THAT(Plan(MakeOp("SET", "k", {"v", "px", "250", "XX"})),
              ElementsAre(Argv{"SET", "k", "v", "PXAT", "1700000000250", "XX"}));
  EXPECT_THAT(Plan(MakeOp("SET", "k", {"v", "EXAT", "1800000000"})),
              ElementsAre(Argv{"SET", "k", "v", "PXAT", "1800000000000"}));
  EXPECT_THAT(Plan(MakeOp("SET", "k", {"v", "PXAT", "1800000000001"})),
              ElementsAre(Argv{"SET", "k", "v", "PXAT", "1800000000001"}));
  EXPECT_THAT(Plan(MakeOp("SET", "k", {"v", "KEEPTTL"})),
              ElementsAre(Argv{"SET", "k", "v", "KEEPTTL"}));
}

TEST(Planner, SetRefusals) {
  Op op = MakeOp("SET", "k", {"v", "EX", "10"});
  op.ttl_ms = 1000;
  EXPECT_EQ(Refusal(op), "SET: ttl_ms/expire_at_ms together with an expiry option in args");
  op.args = {"v", "KEEPTTL"};
  EXPECT_THAT(Refusal(op), HasSubstr("together with an expiry option"));
  op.ttl_ms.reset();
  op.expire_at_ms = 5;
  op.args = {"v", "PXAT", "7"};
  EXPECT_THAT(Refusal(op), HasSubstr("together with an expiry option"));
  EXPECT_EQ(Refusal(MakeOp("SET", "k", {"v", "EX", "0"})), "SET: EX must be positive, got 0");
  EXPECT_EQ(Refusal(MakeOp("SET", "k", {"v", "EX", "abc"})),
            "SET: EX must be an integer, got 'abc'");
  EXPECT_EQ(Refusal(MakeOp("SET", "k", {"v", "EX"})), "SET: EX needs a value");
  EXPECT_EQ(Refusal(MakeOp("SET", "k", {"v", "EX", "1", "PX", "2"})),
            "SET: more than one of EX/PX/EXAT/PXAT/KEEPTTL");
  EXPECT_EQ(Refusal(MakeOp("SET", "k", {"v", "NX", "XX"})), "SET: NX and XX together");
  EXPECT_EQ(Refusal(MakeOp("SET", "k", {"v", "FOO"})), "SET: unknown option 'FOO'");
  EXPECT_THAT(Refusal(MakeOp("SET", "k", {"v", "EX", "9223372036854775"})),
              HasSubstr("out of range"));
}

TEST(Planner, SetexPsetexBecomeSetPxat) {
  EXPECT_THAT(Plan(MakeOp("SETEX", "k", {"10", "v"})),
              ElementsAre(Argv{"SET", "k", "v", "PXAT", "1700000010000"}));
  EXPECT_THAT(Plan(MakeOp("PSETEX", "k", {"10", "v"})),
              ElementsAre(Argv{"SET", "k", "v", "PXAT", "1700000000010"}));
  EXPECT_EQ(Refusal(MakeOp("SETEX", "k", {"-1", "v"})), "SETEX: seconds must be positive, got -1");
  Op op = MakeOp("SETEX", "k", {"10", "v"});
  op.ttl_ms = 1;
  EXPECT_EQ(Refusal(op), "SETEX: ttl_ms/expire_at_ms not allowed with this command");
}

TEST(Planner, GetexBecomesPxat) {
  EXPECT_THAT(Plan(MakeOp("GETEX", "k", {"EX", "2"})),
              ElementsAre(Argv{"GETEX", "k", "PXAT", "1700000002000"}));
  EXPECT_THAT(Plan(MakeOp("GETEX", "k", {"PERSIST"})), ElementsAre(Argv{"GETEX", "k", "PERSIST"}));
  Op op = MakeOp("GETEX", "k");
  op.ttl_ms = 3;
  EXPECT_THAT(Plan(op), ElementsAre(Argv{"GETEX", "k", "PXAT", "1700000000003"}));
  op.args = {"EX", "2"};
  EXPECT_THAT(Refusal(op), HasSubstr("together with an expiry option"));
}

TEST(Planner, ExpireFamilyBecomesPexpireat) {
  EXPECT_THAT(Plan(MakeOp("EXPIRE", "k", {"60"})),
              ElementsAre(Argv{"PEXPIREAT", "k", "1700000060000"}));
  EXPECT_THAT(Plan(MakeOp("PEXPIRE", "k", {"60", "gt"})),
              ElementsAre(Argv{"PEXPIREAT", "k", "1700000000060", "gt"}));
  EXPECT_THAT(Plan(MakeOp("EXPIRE", "k", {"5", "XX", "LT"})),
              ElementsAre(Argv{"PEXPIREAT", "k", "1700000005000", "XX", "LT"}));
  EXPECT_THAT(Plan(MakeOp("EXPIREAT", "k", {"1800000000", "NX"})),
              ElementsAre(Argv{"PEXPIREAT", "k", "1800000000000", "NX"}));
  EXPECT_THAT(Plan(MakeOp("PEXPIREAT", "k", {"1800000000123"})),
              ElementsAre(Argv{"PEXPIREAT", "k", "1800000000123"}));
  // Non-positive relative expiries delete the key; as an absolute time in the past they still do.
  EXPECT_THAT(Plan(MakeOp("EXPIRE", "k", {"-5"})),
              ElementsAre(Argv{"PEXPIREAT", "k", "1699999995000"}));
  EXPECT_THAT(Plan(MakeOp("PERSIST", "k")), ElementsAre(Argv{"PERSIST", "k"}));
}

TEST(Planner, ExpireRefusals) {
  EXPECT_EQ(Refusal(MakeOp("EXPIRE", "k", {"1.5"})),
            "EXPIRE: seconds must be an integer, got '1.5'");
  EXPECT_EQ(Refusal(MakeOp("EXPIRE", "k", {"1", "NX", "GT"})),
            "EXPIRE: NX and XX, GT or LT options are not compatible");
  EXPECT_EQ(Refusal(MakeOp("PEXPIRE", "k", {"1", "GT", "LT"})),
            "PEXPIRE: GT and LT options are not compatible");
  EXPECT_EQ(Refusal(MakeOp("EXPIRE", "k", {"1", "YY"})), "EXPIRE: unknown option 'YY'");
  EXPECT_THAT(Refusal(MakeOp("EXPIREAT", "k", {"9223372036854776"})), HasSubstr("out of range"));
  Op op = MakeOp("EXPIRE", "k", {"1"});
  op.ttl_ms = 1;
  EXPECT_EQ(Refusal(op), "EXPIRE: ttl_ms/expire_at_ms not allowed with this command");
}

TEST(Planner, XaddStarIdUsesRecordTimestamp) {
  EXPECT_THAT(Plan(MakeOp("XADD", "s", {"*", "f", "v"})),
              ElementsAre(Argv{"XADD", "s", "1700000000000-*", "f", "v"}));
  EXPECT_THAT(
      Plan(MakeOp("XADD", "s",
                  {"NOMKSTREAM", "MAXLEN", "~", "1000", "LIMIT", "10", "*", "f", "v", "g", "w"})),
      ElementsAre(Argv{"XADD", "s", "NOMKSTREAM", "MAXLEN", "~", "1000", "LIMIT", "10",
                       "1700000000000-*", "f", "v", "g", "w"}));
  EXPECT_THAT(Plan(MakeOp("XADD", "s", {"minid", "=", "5-0", "*", "f", "v"})),
              ElementsAre(Argv{"XADD", "s", "minid", "=", "5-0", "1700000000000-*", "f", "v"}));
  EXPECT_THAT(Plan(MakeOp("XADD", "s", {"MAXLEN", "10", "*", "f", "v"})),
              ElementsAre(Argv{"XADD", "s", "MAXLEN", "10", "1700000000000-*", "f", "v"}));
  // A field named '*' is not the id; explicit ids pass through.
  EXPECT_THAT(Plan(MakeOp("XADD", "s", {"1-1", "*", "v"})),
              ElementsAre(Argv{"XADD", "s", "1-1", "*", "v"}));
  Op op = MakeOp("XADD", "s", {"*", "f", "v"});
  op.ttl_ms = 10;
  EXPECT_THAT(Plan(op), ElementsAre(Argv{"XADD", "s", "1700000000000-*", "f", "v"},
                                    Argv{"PEXPIREAT", "s", "1700000000010"}));
}

TEST(Planner, XaddRefusals) {
  EXPECT_EQ(Refusal(MakeOp("XADD", "s", {"*", "f", "v", "g"})),
            "XADD: expects field/value pairs after the id");
  EXPECT_EQ(Refusal(MakeOp("XADD", "s", {"NOMKSTREAM", "MAXLEN", "5"})), "XADD: missing entry id");
  EXPECT_EQ(Refusal(MakeOp("XADD", "s", {"*", "f", "v"}), -1),
            "XADD: record timestamp -1 cannot make an entry id");
}

TEST(Planner, ZaddValidation) {
  EXPECT_THAT(Plan(MakeOp("ZADD", "z", {"NX", "CH", "1", "a", "2", "b"})),
              ElementsAre(Argv{"ZADD", "z", "NX", "CH", "1", "a", "2", "b"}));
  EXPECT_THAT(Plan(MakeOp("ZADD", "z", {"INCR", "1", "a"})),
              ElementsAre(Argv{"ZADD", "z", "INCR", "1", "a"}));
  EXPECT_EQ(Refusal(MakeOp("ZADD", "z", {"1", "a", "2"})), "ZADD: expects score/member pairs");
  EXPECT_EQ(Refusal(MakeOp("ZADD", "z", {"XX", "CH"})), "ZADD: expects score/member pairs");
  EXPECT_EQ(Refusal(MakeOp("ZADD", "z", {"INCR", "1", "a", "2", "b"})),
            "ZADD: INCR takes one score/member pair");
  EXPECT_EQ(Refusal(MakeOp("ZADD", "z", {"NX", "GT", "1", "a"})),
            "ZADD: NX and XX, GT or LT options are not compatible");
}

TEST(Planner, ArityAndPairs) {
  EXPECT_EQ(Refusal(MakeOp("HSET", "h", {"f"})),
            "HSET: wrong number of args: 1 (expects 2 or more)");
  EXPECT_EQ(Refusal(MakeOp("HSET", "h", {"f", "v", "g"})),
            "HSET: args must come in field/value pairs");
  EXPECT_EQ(Refusal(MakeOp("DEL", "k", {"k2"})), "DEL: wrong number of args: 1 (expects 0)");
  EXPECT_EQ(Refusal(MakeOp("LINSERT", "l", {"BEFORE", "x"})),
            "LINSERT: wrong number of args: 2 (expects 3)");
  EXPECT_EQ(Refusal(MakeOp("LPOP", "l", {"1", "2"})),
            "LPOP: wrong number of args: 2 (expects 0 to 1)");
  EXPECT_EQ(Refusal(MakeOp("FLUSHALL", "k")), "command 'FLUSHALL' is not in the allow-list");
}

TEST(Planner, TtlRules) {
  Op op = MakeOp("SADD", "s", {"a"});
  op.ttl_ms = 0;
  EXPECT_EQ(Refusal(op), "SADD: ttl_ms must be > 0");
  op.ttl_ms = 5;
  op.expire_at_ms = 5;
  EXPECT_EQ(Refusal(op), "SADD: ttl_ms and expire_at_ms together");
  op.expire_at_ms.reset();
  op.ttl_ms = kMaxRelativeMs + 1;
  EXPECT_EQ(Refusal(op), "SADD: ttl_ms out of range");
  Op del = MakeOp("DEL", "k");
  del.ttl_ms = 5;
  EXPECT_EQ(Refusal(del), "DEL: ttl_ms/expire_at_ms not allowed with this command");
}

TEST(Planner, RecordTimestampMustBeUsable) {
  Op op = MakeOp("SET", "k", {"v"});
  op.ttl_ms = 5;
  EXPECT_THAT(Refusal(op, -1), HasSubstr("record timestamp -1"));
  EXPECT_THAT(Refusal(op, kMaxRecordTsMs + 1), HasSubstr("record timestamp"));
  EXPECT_THAT(Plan(op, 0), ElementsAre(Argv{"SET", "k", "v", "PXAT", "5"}));
  // Ops needing no timestamp don't care.
  EXPECT_THAT(Plan(MakeOp("SET", "k", {"v"}), -1), ElementsAre(Argv{"SET", "k", "v"}));
}

TEST(Planner, CheckOpMatchesPlanOp) {
  EXPECT_TRUE(CheckOp(MakeOp("SET", "k", {"v", "EX", "10"})));
  EXPECT_FALSE(CheckOp(MakeOp("SET", "k", {"v", "EX", "x"})));
  EXPECT_FALSE(CheckOp(MakeOp("SPOP", "k")));
  Op op = MakeOp("SET", "k", {"v"});
  op.ttl_ms = kMaxRelativeMs;
  ASSERT_TRUE(CheckOp(op));
  EXPECT_THAT(
      Plan(op, kMaxRecordTsMs),
      ElementsAre(Argv{"SET", "k", "v", "PXAT", std::to_string(kMaxRecordTsMs + kMaxRelativeMs)}));
}

}  // namespace
}  // namespace walrus
