#include "gateway/api_request.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/token_auth.h"

namespace walrus::gateway {
namespace {

std::string ErrorOf(std::string_view body, bool crdt = true) {
  auto r = ParseProduceRequest(body, crdt);
  if (r) return "";
  EXPECT_TRUE(r.error().Is(Errc::kInvalidArgument));
  return r.error().message;
}

TEST(ParseProduceRequest, SingleOp) {
  auto r = ParseProduceRequest(R"({"region":"us","cmd":"incrby","key":"sales:total","args":["5"]})",
                               true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->region, "us");
  ASSERT_EQ(r->write.ops.size(), 1u);
  EXPECT_EQ(r->write.ops[0].cmd, "INCRBY");
  EXPECT_EQ(r->write.ops[0].key, "sales:total");
  EXPECT_EQ(r->write.ops[0].args, (std::vector<std::string>{"5"}));
  EXPECT_FALSE(r->write.multi);
  EXPECT_TRUE(r->write.origin.empty());
}

TEST(ParseProduceRequest, MultiAndTtl) {
  auto r = ParseProduceRequest(
      R"({"multi":[{"cmd":"DECRBY","key":"stock:{sku1}","args":["1"]},
                   {"cmd":"SADD","key":"buyers:{sku1}","args":["alice"]}],"region":"eu"})",
      true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->region, "eu");
  EXPECT_TRUE(r->write.multi);
  EXPECT_EQ(r->write.ops.size(), 2u);
  auto t = ParseProduceRequest(R"({"region":"us","cmd":"SET","key":"s","args":["x"],"ttl_ms":500})",
                               true);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->write.ops[0].ttl_ms, 500);
}

TEST(ParseProduceRequest, ErrorsNameTheProblem) {
  EXPECT_EQ(ErrorOf("{not json"), "body is not valid JSON");
  EXPECT_EQ(ErrorOf(""), "body is not valid JSON");
  EXPECT_EQ(ErrorOf("[1]"), "body must be a JSON object");
  EXPECT_EQ(ErrorOf(R"({"cmd":"SET","key":"k","args":["v"]})"), "field 'region' is required");
  EXPECT_EQ(ErrorOf(R"({"region":1,"cmd":"SET","key":"k","args":["v"]})"),
            "field 'region' must be a string");
  EXPECT_NE(ErrorOf(R"({"region":"us","cmd":"SET","key":"k","args":["v"],"hlc":"x"})")
                .find("'hlc' must not be given"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"region":"us","cmd":"SET","key":"k","args":["v"],"origin":"us"})")
                .find("'origin' must not be given"),
            std::string::npos);
  // The op decoder's own messages come through.
  EXPECT_NE(ErrorOf(R"({"region":"us","cmd":"SET","key":"k","args":["v"],"ttl":5})").find("ttl"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"region":"us","cmd":"FLUSHALL","key":"k"})").find("invalid op"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"region":"us","cmd":"SET","key":"k","args":[5]})").find("invalid op"),
            std::string::npos);
}

// Ops on walrus's own keys (core/keyspace.h) are refused with the key named, in both modes: the
// produce route answers 400 with this message (api_routes.cc).
TEST(ParseProduceRequest, WalrusOwnKeysRefused) {
  for (bool crdt : {false, true}) {
    EXPECT_EQ(ErrorOf(R"({"region":"us","cmd":"DEL","key":"walrus:pos:us.events:0"})", crdt),
              "invalid op: key 'walrus:pos:us.events:0' is reserved: keys beginning with "
              "'walrus:' are walrus's own state (positions, source coordinates, epoch, hlc, crdt "
              "sidecars) and no op may write them");
    EXPECT_NE(ErrorOf(R"({"region":"us","cmd":"set","key":"walrus:epoch","args":["99"]})", crdt)
                  .find("'walrus:epoch' is reserved"),
              std::string::npos);
    EXPECT_NE(ErrorOf(R"({"region":"us","multi":[{"cmd":"INCRBY","key":"n:{t}","args":["1"]},
                          {"cmd":"HSET","key":"walrus:m:{t}:n:{t}","args":["t","x"]}]})",
                      crdt)
                  .find("multi[1]: key 'walrus:m:{t}:n:{t}' is reserved"),
              std::string::npos);
    EXPECT_TRUE(
        ParseProduceRequest(R"({"region":"us","cmd":"DEL","key":"Walrus:pos:us.events:0"})", crdt));
  }
}

TEST(ParseProduceRequest, CrdtModeRefusesWhatTheApplierWouldDeadLetter) {
  for (const char* body : {R"({"region":"us","cmd":"RPUSH","key":"l","args":["a"]})",
                           R"({"region":"us","cmd":"SET","key":"k","args":["v","NX"]})",
                           R"({"region":"us","cmd":"INCRBYFLOAT","key":"k","args":["1.5"]})"}) {
    EXPECT_NE(ErrorOf(body).find("not supported in active-active (crdt) mode"), std::string::npos)
        << body << ": " << ErrorOf(body);
    EXPECT_EQ(ErrorOf(body, /*crdt=*/false), "") << body;
  }
}

TEST(ParseRateBody, Bounds) {
  auto none = ParseRateBody("", false);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(ParseRateBody("", true));
  EXPECT_FALSE(ParseRateBody("{}", true));
  EXPECT_TRUE(ParseRateBody("{}", false));
  auto ok = ParseRateBody(R"({"rate": 200})", true);
  ASSERT_TRUE(ok);
  EXPECT_EQ(**ok, 200);
  EXPECT_NE(ParseRateBody(R"({"rate":0})", true).error().message.find("1..5000"),
            std::string::npos);
  EXPECT_FALSE(ParseRateBody(R"({"rate":5001})", true));
  EXPECT_FALSE(ParseRateBody(R"({"rate":1.5})", true));
  EXPECT_FALSE(ParseRateBody(R"({"rate":"5"})", true));
  EXPECT_NE(ParseRateBody(R"({"rat":5})", true).error().message.find("unknown field 'rat'"),
            std::string::npos);
}

TEST(Json, ErrorJsonAndInvalidUtf8) {
  EXPECT_EQ(ErrorJson("bad \"x\""), R"({"error":"bad \"x\""})");
  EXPECT_EQ(DumpJson(nlohmann::json(std::string("a\xff"))), "\"a\xEF\xBF\xBD\"");
}

TEST(TokenAuth, BearerOnlyExactToken) {
  TokenAuth auth("s3cret");
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Allows("Bearer s3cret"));
  EXPECT_TRUE(auth.Allows("bearer s3cret"));
  EXPECT_TRUE(auth.Allows("Bearer  s3cret "));
  EXPECT_FALSE(auth.Allows(""));
  EXPECT_FALSE(auth.Allows("Bearer "));
  EXPECT_FALSE(auth.Allows("Bearer s3cre"));
  EXPECT_FALSE(auth.Allows("Bearer s3cret2"));
  EXPECT_FALSE(auth.Allows("Basic s3cret"));
  EXPECT_FALSE(auth.Allows("s3cret"));
  TokenAuth off("");
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.Allows(""));
}

}  // namespace
}  // namespace walrus::gateway
