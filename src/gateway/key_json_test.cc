#include "gateway/key_json.h"

#include <gtest/gtest.h>

#include <string>

namespace walrus::gateway {
namespace {

KeyValue Str(std::string k, std::string v) {
  return KeyValue{.key = std::move(k), .type = "string", .str = std::move(v)};
}

TEST(KeyJson, ValueJsonShapes) {
  using nlohmann::json;
  EXPECT_EQ(ValueJson(Str("k", "v")), json("v"));
  KeyValue h{.key = "h", .type = "hash", .pairs = {{"a", "1"}}};
  EXPECT_EQ(ValueJson(h), json({{"a", "1"}}));
  KeyValue z{.key = "z", .type = "zset", .pairs = {{"m", "1.5"}, {"n", "inf"}}};
  EXPECT_EQ(ValueJson(z).dump(), R"([["m",1.5],["n","inf"]])");
  KeyValue x{.key = "x", .type = "stream", .entries = {{"1-0", {{"f", "v"}}}}};
  EXPECT_EQ(ValueJson(x).dump(), R"([["1-0",{"f":"v"}]])");
  KeyValue s{.key = "s", .type = "set", .items = {"a"}, .ttl_ms = 10};
  EXPECT_EQ(KeyJson(s).dump(), R"({"ttl_ms":10,"type":"set","value":["a"]})");
  EXPECT_TRUE(ValueJson(KeyValue{.key = "o", .type = "ReJSON-RL"}).is_null());
}

}  // namespace
}  // namespace walrus::gateway
