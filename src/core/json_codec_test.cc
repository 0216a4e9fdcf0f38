#include "core/json_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/base64.h"

namespace walrus {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class JsonCodec : public ::testing::Test {
 protected:
  Write Ok(std::string_view value, std::optional<std::string_view> key = std::nullopt) {
    Result<Write> w = dec_.Decode(key, value);
    EXPECT_TRUE(w) << value << " -> " << (w ? "" : w.error().message);
    return w ? *w : Write{};
  }
  // Returns the message of an expected failure with the given code.
  std::string Fail(Errc code, std::optional<std::string_view> value,
                   std::optional<std::string_view> key = std::nullopt) {
    Result<Write> w = dec_.Decode(key, value);
    EXPECT_FALSE(w) << value.value_or("<null>");
    if (w) return "";
    EXPECT_TRUE(w.error().Is(code)) << w.error().message;
    return w.error().message;
  }
  JsonDecoder dec_;
};

TEST_F(JsonCodec, DesignExamples) {
  Write w = Ok(R"({"cmd":"SET","key":"orders:42","args":["paid"]})", "orders:42");
  ASSERT_EQ(w.ops.size(), 1u);
  EXPECT_FALSE(w.multi);
  EXPECT_EQ(w.ops[0].cmd, "SET");
  EXPECT_EQ(w.ops[0].key, "orders:42");
  EXPECT_THAT(w.ops[0].args, ElementsAre("paid"));

  w = Ok(R"({"cmd":"SET","key":"session:9","args":["x"],"ttl_ms":30000})");
  EXPECT_EQ(w.ops[0].ttl_ms, 30000);
  EXPECT_FALSE(w.ops[0].expire_at_ms);

  w = Ok(R"({"cmd":"INCRBY","key":"sales:total","args":["5"]})");
  EXPECT_THAT(w.ops[0].args, ElementsAre("5"));

  w = Ok(R"({"cmd":"HSET","key":"user:1","args":["name","alice","tier","vip"]})");
  EXPECT_THAT(w.ops[0].args, ElementsAre("name", "alice", "tier", "vip"));

  w = Ok(R"({"multi":[{"cmd":"DECRBY","key":"stock:{sku1}","args":["1"]},
                      {"cmd":"RPUSH","key":"orders:{sku1}","args":["o-77"]}]})",
         "sku1");
  EXPECT_TRUE(w.multi);
  ASSERT_EQ(w.ops.size(), 2u);
  EXPECT_EQ(w.ops[0].cmd, "DECRBY");
  EXPECT_EQ(w.ops[1].key, "orders:{sku1}");
}

TEST_F(JsonCodec, CmdCaseInsensitiveAndCanonical) {
  EXPECT_EQ(Ok(R"({"cmd":"hSet","key":"h","args":["f","v"]})").ops[0].cmd, "HSET");
}

TEST_F(JsonCodec, FieldOrderFree) {
  Write w = Ok(R"({"hlc":"17-3","args":["v"],"key":"k","origin":"us","cmd":"set"})");
  EXPECT_EQ(w.origin, "us");
  EXPECT_EQ(w.hlc, "17-3");
  EXPECT_EQ(w.ops[0].cmd, "SET");
}

TEST_F(JsonCodec, NumbersInArgsRefused) {
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"INCRBY","key":"c","args":[5]})"),
            "args[0] must be a string, got number (quote numbers, e.g. \"5\")");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SADD","key":"c","args":["a",null]})"),
            "args[1] must be a string, got null");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SADD","key":"c","args":"a"})"),
            "'args' must be an array, got string");
}

TEST_F(JsonCodec, ArgsB64IsBinarySafe) {
  const std::string bin("\x00\xff\x80z", 4);
  const std::string value =
      R"({"cmd":"SET","key":"k","args_b64":[")" + Base64Encode(bin) + R"("]})";
  Write w = Ok(value);
  EXPECT_THAT(w.ops[0].args, ElementsAre(bin));
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","args_b64":["@@@@"]})"),
            "args_b64[0]: invalid base64: bad character");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","args":["a"],"args_b64":["YQ=="]})"),
            "'args' and 'args_b64' together");
}

TEST_F(JsonCodec, KeyB64) {
  Write w = Ok(R"({"cmd":"DEL","key_b64":"AP8="})", std::string_view("\x00\xff", 2));
  EXPECT_EQ(w.ops[0].key, std::string("\x00\xff", 2));
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"DEL","key":"a","key_b64":"YQ=="})"),
            "'key' and 'key_b64' together");
}

TEST_F(JsonCodec, UnknownAndDuplicateFields) {
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","args":["v"],"ttl":5})"),
            "unknown field 'ttl'");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SET","cmd":"DEL","key":"k","args":["v"]})"),
            "duplicate field 'cmd'");
  EXPECT_EQ(
      Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","args":["v"],"origin":"a","origin":"b"})"),
      "duplicate field 'origin'");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","origin":5,"args":["v"]})"),
            "'origin' must be a string, got number");
}

TEST_F(JsonCodec, MissingAndEmpty) {
  EXPECT_EQ(Fail(Errc::kDecode, R"({"key":"k"})"), "missing field 'cmd'");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"DEL"})"), "missing field 'key'");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"DEL","key":""})"), "empty key");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":7,"key":"k"})"), "'cmd' must be a string, got number");
  EXPECT_EQ(Fail(Errc::kDecode, R"({})"), "missing field 'cmd'");
}

TEST_F(JsonCodec, RefusedCommands) {
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"flushall","key":"k"})"),
            "command 'FLUSHALL' is not in the allow-list");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"SPOP","key":"k"})"),
            "command 'SPOP' is not allowed: non-deterministic (random members)");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"MSET","key":"k","args":["v","k2","v2"]})"),
            "command 'MSET' is not allowed: multi-key command; use multi");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"EVAL","key":"k","args":["return 1","0"]})"),
            "command 'EVAL' is not allowed: scripts cannot be checked for determinism");
}

TEST_F(JsonCodec, ArityChecked) {
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"HSET","key":"h","args":["f","v","g"]})"),
            "HSET: args must come in field/value pairs");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"SET","key":"k"})"),
            "SET: wrong number of args: 0 (expects 1 to 5)");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"ZADD","key":"z","args":["1","a","2"]})"),
            "ZADD: expects score/member pairs");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"DEL","key":"a","args":["b"]})"),
            "DEL: wrong number of args: 1 (expects 0)");
}

TEST_F(JsonCodec, TtlRules) {
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"SET","key":"k","args":["v"],"ttl_ms":0})"),
            "ttl_ms must be > 0");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"SET","key":"k","args":["v"],"ttl_ms":-5})"),
            "ttl_ms must be > 0");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","args":["v"],"ttl_ms":1.5})"),
            "'ttl_ms' must be an integer, got a non-int64 number");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","args":["v"],"ttl_ms":"5"})"),
            "'ttl_ms' must be an integer, got string");
  EXPECT_EQ(
      Fail(Errc::kDecode, R"({"cmd":"SET","key":"k","args":["v"],"ttl_ms":18446744073709551615})"),
      "'ttl_ms' must be an integer, got a non-int64 number");
  EXPECT_EQ(
      Fail(Errc::kRefused, R"({"cmd":"SET","key":"k","args":["v"],"ttl_ms":5,"expire_at_ms":9})"),
      "ttl_ms and expire_at_ms together");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"SET","key":"k","args":["v","EX","5"],"ttl_ms":5})"),
            "SET: ttl_ms/expire_at_ms together with an expiry option in args");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"DEL","key":"k","ttl_ms":5})"),
            "DEL: ttl_ms/expire_at_ms not allowed with this command");
  Write w = Ok(R"({"cmd":"SET","key":"k","args":["v"],"expire_at_ms":1800000000000})");
  EXPECT_EQ(w.ops[0].expire_at_ms, 1800000000000);
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"SET","key":"k","args":["v","EX","0"]})"),
            "SET: EX must be positive, got 0");
}

TEST_F(JsonCodec, MultiRules) {
  EXPECT_EQ(Fail(Errc::kRefused, R"({"multi":[]})"), "empty multi");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"multi":{}})"), "'multi' must be an array, got object");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"multi":[5]})"), "multi[0]: op must be an object, got number");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"multi":[{"cmd":"DEL","key":"a"},{"multi":[]}]})"),
            "multi[1]: nested multi");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"multi":[{"cmd":"DEL"}]})"), "multi[0]: missing field 'key'");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"multi":[{"cmd":"DEL","key":"a","origin":"us"}]})"),
            "multi[0]: field 'origin' only allowed at the top level");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"multi":[{"cmd":"DEL","key":"a"}],"cmd":"SET"})"),
            "field 'cmd' not allowed beside 'multi'");
  EXPECT_EQ(Fail(Errc::kRefused, R"({"multi":[{"cmd":"DEL","key":"a"},{"cmd":"SPOP","key":"b"}]})"),
            "multi[1]: command 'SPOP' is not allowed: non-deterministic (random members)");
  EXPECT_EQ(Fail(Errc::kDecode, R"({"multi":[{"cmd":"DEL","key":"a","bogus":1}]})"),
            "multi[0]: unknown field 'bogus'");
  // Inner ops may carry their own ttl; origin/hlc live at the top level.
  Write w =
      Ok(R"({"multi":[{"cmd":"SET","key":"a","args":["1"],"ttl_ms":10}],"origin":"eu","hlc":"x"})");
  EXPECT_TRUE(w.multi);
  EXPECT_EQ(w.ops[0].ttl_ms, 10);
  EXPECT_EQ(w.origin, "eu");
}

TEST_F(JsonCodec, RecordKey) {
  EXPECT_EQ(Fail(Errc::kRefused, R"({"cmd":"DEL","key":"b"})", "a"),
            "record key 'a' != op key 'b'");
  Ok(R"({"cmd":"DEL","key":"b"})", "b");
  Ok(R"({"cmd":"DEL","key":"b"})");  // null record key: nothing to compare
  // A multi's record key is a routing key; it need not equal any op key.
  Ok(R"({"multi":[{"cmd":"DEL","key":"x{t}"},{"cmd":"DEL","key":"y{t}"}]})", "t");
}

TEST_F(JsonCodec, Tombstones) {
  Result<Write> t = dec_.Decode("user:1", std::nullopt);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->ops.size(), 1u);
  EXPECT_EQ(t->ops[0].cmd, "DEL");
  EXPECT_EQ(t->ops[0].key, "user:1");
  EXPECT_TRUE(t->ops[0].args.empty());
  EXPECT_EQ(Fail(Errc::kDecode, std::nullopt, std::nullopt),
            "tombstone (null value) without a record key");
  EXPECT_EQ(Fail(Errc::kRefused, std::nullopt, ""), "empty key");
}

TEST_F(JsonCodec, MalformedInput) {
  EXPECT_THAT(Fail(Errc::kDecode, ""), HasSubstr("invalid JSON"));
  EXPECT_THAT(Fail(Errc::kDecode, "{"), HasSubstr("invalid JSON"));
  EXPECT_THAT(Fail(Errc::kDecode, R"({"cmd":"DEL","key":"k"} x)"), HasSubstr("invalid JSON"));
  EXPECT_THAT(Fail(Errc::kDecode, "{\"cmd\":\"DEL\",\"key\":\"\xff\"}"), HasSubstr("invalid JSON"));
  EXPECT_EQ(Fail(Errc::kDecode, "[1,2]"), "value must be a JSON object, got array");
  EXPECT_EQ(Fail(Errc::kDecode, "\"SET\""), "value must be a JSON object, got string");
}

TEST(JsonDecoderLimits, Enforced) {
  JsonDecoder dec(DecoderLimits{.max_value_bytes = 64, .max_multi_ops = 2, .max_args = 3});
  Result<Write> w = dec.Decode(std::nullopt, std::string(65, ' '));
  ASSERT_FALSE(w);
  EXPECT_TRUE(w.error().Is(Errc::kRefused));
  EXPECT_EQ(w.error().message, "value of 65 bytes exceeds the limit of 64");
  w = dec.Decode(std::nullopt, R"({"cmd":"SADD","key":"s","args":["a","b","c","d"]})");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message, "too many args: 4 (limit 3)");
  w = dec.Decode(std::nullopt, R"({"multi":[{"cmd":"DEL","key":"a"},{"cmd":"DEL","key":"b"},{}]})");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message, "multi has 3 ops (limit 2)");
  EXPECT_TRUE(dec.Decode(std::nullopt, R"({"cmd":"SADD","key":"s","args":["a","b","c"]})"));
  EXPECT_EQ(dec.name(), "json");
}

TEST_F(JsonCodec, ParserReuseHasNoStaleState) {
  std::string big = R"({"cmd":"SADD","key":"s","args":[)";
  for (int i = 0; i < 2000; ++i) big += (i ? ",\"m" : "\"m") + std::to_string(i) + "\"";
  big += "]}";
  EXPECT_EQ(Ok(big).ops[0].args.size(), 2000u);
  Write w = Ok(R"({"cmd":"DEL","key":"z"})");
  EXPECT_EQ(w.ops[0].key, "z");
  EXPECT_TRUE(w.ops[0].args.empty());
}

TEST(JsonEncoder, CanonicalCompact) {
  Write w;
  Op& op = w.ops.emplace_back();
  op.cmd = "SET";
  op.key = "k";
  op.args = {"v", "q\"\\\n\x01"};
  op.ttl_ms = 5;
  w.origin = "us";
  w.hlc = "1-2";
  EXPECT_EQ(
      EncodeJson(w),
      R"({"cmd":"SET","key":"k","args":["v","q\"\\\n\u0001"],"ttl_ms":5,"origin":"us","hlc":"1-2"})");
  EXPECT_EQ(EncodeJson(op), R"({"cmd":"SET","key":"k","args":["v","q\"\\\n\u0001"],"ttl_ms":5})");
  Op del{.cmd = "DEL", .key = "k", .args = {}, .ttl_ms = {}, .expire_at_ms = {}};
  EXPECT_EQ(EncodeJson(del), R"({"cmd":"DEL","key":"k"})");
  Op exp{.cmd = "HSET", .key = "h", .args = {"f", "v"}, .ttl_ms = {}, .expire_at_ms = 7};
  EXPECT_EQ(EncodeJson(exp), R"({"cmd":"HSET","key":"h","args":["f","v"],"expire_at_ms":7})");
}

TEST(JsonEncoder, BinaryUsesB64) {
  Op op{.cmd = "SET", .key = std::string("k\xff", 2), .args = {"ok", std::string("\xc3(", 2)}};
  EXPECT_EQ(EncodeJson(op), R"({"cmd":"SET","key_b64":"a/8=","args_b64":["b2s=","wyg="]})");
  Op utf8{.cmd = "SET", .key = "caf\xc3\xa9", .args = {"\xe2\x82\xac"}};
  EXPECT_EQ(EncodeJson(utf8),
            "{\"cmd\":\"SET\",\"key\":\"caf\xc3\xa9\",\"args\":[\"\xe2\x82\xac\"]}");
}

TEST(JsonEncoder, MultiAndInvalidUtf8Stamp) {
  Write w;
  w.multi = true;
  w.ops.push_back(Op{.cmd = "DECRBY", .key = "a", .args = {"1"}});
  w.ops.push_back(Op{.cmd = "RPUSH", .key = "b", .args = {"x"}});
  EXPECT_EQ(
      EncodeJson(w),
      R"({"multi":[{"cmd":"DECRBY","key":"a","args":["1"]},{"cmd":"RPUSH","key":"b","args":["x"]}]})");
  std::string out;
  AppendJsonString(std::string_view("a\xff", 2), out);
  EXPECT_EQ(out, "\"a\\u00ff\"");
}

TEST(JsonRoundTrip, EncodeDecodeIsIdentity) {
  std::vector<Write> writes;
  {
    Write w;
    w.ops.push_back(Op{.cmd = "SET", .key = "k", .args = {"v", "NX"}, .ttl_ms = 10});
    w.origin = "ap";
    w.hlc = "99";
    writes.push_back(w);
  }
  {
    Write w;
    w.multi = true;
    w.ops.push_back(Op{.cmd = "HSET", .key = std::string("\x00\x01", 2), .args = {"f", "v"}});
    w.ops.push_back(Op{.cmd = "XADD",
                       .key = "s",
                       .args = {"*", "f", std::string("\xff\x00", 2)},
                       .expire_at_ms = 123});
    writes.push_back(w);
  }
  {
    Write w;
    w.multi = true;  // a multi of one stays a multi
    w.ops.push_back(Op{.cmd = "PFADD", .key = "hll"});
    writes.push_back(w);
  }
  JsonDecoder dec;
  for (const Write& w : writes) {
    const std::string json = EncodeJson(w);
    Result<Write> back = dec.Decode(std::nullopt, json);
    ASSERT_TRUE(back) << json << ": " << back.error().message;
    EXPECT_EQ(*back, w) << json;
  }
}

TEST(JsonDecoderRobustness, RandomMutationsNeverCrash) {
  const std::string seed =
      R"({"multi":[{"cmd":"SET","key":"k","args":["v","EX","5"]},{"cmd":"XADD","key":"s","args_b64":["Kg==","Zg==","dg=="],"ttl_ms":5}],"origin":"us"})";
  JsonDecoder dec;
  ASSERT_TRUE(dec.Decode(std::nullopt, seed));
  std::mt19937 rng(42);
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = static_cast<char>(rng() & 0xff);
          break;
        case 1:
          s.erase(pos, 1 + rng() % 8);
          break;
        default:
          s.insert(pos, 1, "{}[]\",:0\\"[rng() % 9]);
          break;
      }
      if (s.empty()) s = "{";
    }
    Result<Write> w = dec.Decode(std::nullopt, s);
    if (!w) {
      EXPECT_FALSE(w.error().message.empty());
      continue;
    }
    ++ok;
    Result<Write> back = dec.Decode(std::nullopt, EncodeJson(*w));
    ASSERT_TRUE(back) << s;
    EXPECT_EQ(*back, *w) << s;
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace walrus
