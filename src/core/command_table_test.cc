#include "core/command_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace walrus {
namespace {

TEST(CommandTable, AllRequiredCommandsAllowed) {
  const char* kRequired[] = {
      "SET",
      "SETNX",
      "SETEX",
      "PSETEX",
      "APPEND",
      "SETRANGE",
      "GETDEL",
      "DEL",
      "UNLINK",
      "INCR",
      "INCRBY",
      "INCRBYFLOAT",
      "DECR",
      "DECRBY",
      "EXPIRE",
      "PEXPIRE",
      "EXPIREAT",
      "PEXPIREAT",
      "PERSIST",
      "HSET",
      "HMSET",
      "HSETNX",
      "HDEL",
      "HINCRBY",
      "HINCRBYFLOAT",
      "SADD",
      "SREM",
      "ZADD",
      "ZREM",
      "ZINCRBY",
      "ZREMRANGEBYSCORE",
      "ZREMRANGEBYRANK",
      "ZREMRANGEBYLEX",
      "ZPOPMIN",
      "ZPOPMAX",
      "LPUSH",
      "RPUSH",
      "LPUSHX",
      "RPUSHX",
      "LPOP",
      "RPOP",
      "LREM",
      "LTRIM",
      "LSET",
      "LINSERT",
      "XADD",
      "XDEL",
      "XTRIM",
      "PFADD",
      "SETBIT",
  };
  for (const char* name : kRequired) {
    const CommandSpec* spec = FindCommand(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->name, name);
  }
}

TEST(CommandTable, CaseInsensitive) {
  ASSERT_NE(FindCommand("hset"), nullptr);
  EXPECT_EQ(FindCommand("hset")->name, "HSET");
  EXPECT_EQ(FindCommand("ZremRangeByScore")->name, "ZREMRANGEBYSCORE");
  EXPECT_EQ(FindCommand(""), nullptr);
  EXPECT_EQ(FindCommand("ZREMRANGEBYSCOREX"), nullptr);
  EXPECT_EQ(FindCommand("SE"), nullptr);
  EXPECT_EQ(FindCommand(std::string_view("SET\0", 4)), nullptr);
}

TEST(CommandTable, SortedUniqueAndSane) {
  std::set<std::string_view> seen;
  std::string_view prev;
  for (const CommandSpec& s : AllCommands()) {
    EXPECT_LT(prev, s.name);
    prev = s.name;
    EXPECT_TRUE(seen.insert(s.name).second);
    EXPECT_GE(s.min_args, 0) << s.name;
    EXPECT_TRUE(s.max_args == -1 || s.max_args >= s.min_args) << s.name;
    EXPECT_EQ(FindCommand(s.name), &s);
  }
}

TEST(CommandTable, Families) {
  EXPECT_EQ(FindCommand("INCR")->family, Family::kCounter);
  EXPECT_EQ(FindCommand("DECRBY")->family, Family::kCounter);
  EXPECT_EQ(FindCommand("SET")->family, Family::kString);
  EXPECT_EQ(FindCommand("DEL")->family, Family::kGeneric);
  EXPECT_EQ(FindCommand("HINCRBY")->family, Family::kHash);
  EXPECT_EQ(FindCommand("SADD")->family, Family::kSet);
  EXPECT_EQ(FindCommand("ZADD")->family, Family::kSortedSet);
  EXPECT_EQ(FindCommand("LTRIM")->family, Family::kList);
  EXPECT_EQ(FindCommand("XADD")->family, Family::kStream);
  EXPECT_EQ(FindCommand("PFADD")->family, Family::kHyperLogLog);
  EXPECT_EQ(FindCommand("PEXPIREAT")->family, Family::kExpiry);
  EXPECT_EQ(FindCommand("PERSIST")->family, Family::kExpiry);
  EXPECT_EQ(FamilyName(Family::kSortedSet), "sorted-set");
}

TEST(CommandTable, ArityAndFlags) {
  const CommandSpec* hset = FindCommand("HSET");
  EXPECT_EQ(hset->min_args, 2);
  EXPECT_EQ(hset->max_args, -1);
  EXPECT_TRUE(hset->pairs);
  EXPECT_EQ(FindCommand("DEL")->max_args, 0);  // single key only
  EXPECT_FALSE(FindCommand("DEL")->ttl_ok);
  EXPECT_FALSE(FindCommand("SETEX")->ttl_ok);
  EXPECT_TRUE(FindCommand("INCR")->ttl_ok);
  EXPECT_EQ(FindCommand("XADD")->plan, PlanKind::kXadd);
}

std::string RefusalOf(std::string_view name) {
  Result<const CommandSpec*> r = ResolveCommand(name);
  EXPECT_FALSE(r) << name;
  if (r) return "";
  EXPECT_TRUE(r.error().Is(Errc::kRefused));
  return r.error().message;
}

TEST(CommandTable, RefusalReasons) {
  EXPECT_EQ(RefusalOf("FLUSHALL"), "command 'FLUSHALL' is not in the allow-list");
  EXPECT_EQ(RefusalOf("get"), "command 'GET' is not in the allow-list");
  EXPECT_EQ(RefusalOf("spop"), "command 'SPOP' is not allowed: non-deterministic (random members)");
  EXPECT_EQ(RefusalOf("SRANDMEMBER"),
            "command 'SRANDMEMBER' is not allowed: non-deterministic (random members)");
  for (const char* s : {"EVAL", "EVALSHA", "FCALL"}) {
    EXPECT_EQ(RefusalOf(s), "command '" + std::string(s) +
                                "' is not allowed: scripts cannot be checked for determinism");
  }
  for (const char* m : {"MSET", "RENAME", "SMOVE", "LMOVE", "MSETNX", "SUNIONSTORE"}) {
    EXPECT_EQ(RefusalOf(m),
              "command '" + std::string(m) + "' is not allowed: multi-key command; use multi");
  }
  EXPECT_NE(RefusalOf("BLPOP").find("blocking"), std::string::npos);
  EXPECT_NE(RefusalOf("MULTI").find("'multi' field"), std::string::npos);
  EXPECT_EQ(RefusalOf(""), "empty command name");
  // Hostile names are bounded and printable in the message.
  const std::string huge(10000, 'x');
  EXPECT_LT(RefusalOf(huge).size(), 100u);
  EXPECT_EQ(RefusalOf(std::string_view("A\nB", 3)), "command 'A\\x0aB' is not in the allow-list");
}

TEST(CommandTable, ResolveFindsAllowed) {
  Result<const CommandSpec*> r = ResolveCommand("zadd");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->name, "ZADD");
}

}  // namespace
}  // namespace walrus
