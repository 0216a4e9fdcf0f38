// The canonical form (docs/dataset-digest.md). Most of these moved here from
// src/gateway/state_digest_test.cc with the code they test.

#include "dataset/digest.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace walrus::dataset {
namespace {

KeyValue Str(std::string k, std::string v) {
  return KeyValue{.key = std::move(k), .type = "string", .str = std::move(v)};
}

TEST(StateDigest, UserKeys) {
  EXPECT_TRUE(IsUserKey("cart:alice"));
  EXPECT_TRUE(IsUserKey("walrus"));
  EXPECT_TRUE(IsUserKey("xwalrus:m"));
  EXPECT_FALSE(IsUserKey("walrus:m:{k}:k"));
  EXPECT_FALSE(IsUserKey("walrus:pos:us.events:0"));
}

TEST(StateDigest, CanonicalizeSortsHashesAndSetsOnly) {
  KeyValue h{.key = "h", .type = "hash", .pairs = {{"b", "2"}, {"a", "1"}}};
  KeyValue s{.key = "s", .type = "set", .items = {"z", "a", "m"}};
  KeyValue l{.key = "l", .type = "list", .items = {"z", "a"}};
  KeyValue z{.key = "z", .type = "zset", .pairs = {{"b", "1"}, {"a", "2"}}};
  Canonicalize(h);
  Canonicalize(s);
  Canonicalize(l);
  Canonicalize(z);
  EXPECT_EQ(h.pairs, (std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(s.items, (std::vector<std::string>{"a", "m", "z"}));
  EXPECT_EQ(l.items, (std::vector<std::string>{"z", "a"}));  // lists keep their order
  EXPECT_EQ(z.pairs[0].first, "b");                          // zsets keep rank order
}

TEST(StateDigest, SameDataSameDigestWhateverTheReadOrder) {
  KeyValue h1{.key = "h", .type = "hash", .pairs = {{"b", "2"}, {"a", "1"}}};
  KeyValue h2{.key = "h", .type = "hash", .pairs = {{"a", "1"}, {"b", "2"}}};
  KeyValue s1{.key = "s", .type = "set", .items = {"x", "y"}};
  KeyValue s2{.key = "s", .type = "set", .items = {"y", "x"}};
  for (auto* kv : {&h1, &h2, &s1, &s2}) Canonicalize(*kv);
  EXPECT_EQ(DigestOf({h1, s1, Str("t", "v")}), DigestOf({h2, s2, Str("t", "v")}));
}

TEST(StateDigest, TtlIsNotPartOfTheDigest) {
  KeyValue a = Str("k", "v");
  KeyValue b = Str("k", "v");
  b.ttl_ms = 5000;
  b.expire_at_ms = 4000000000000;
  EXPECT_EQ(DigestOf({a}), DigestOf({b}));
  EXPECT_EQ(KeyDigest(a), KeyDigest(b));
}

TEST(StateDigest, EveryDifferenceChangesTheDigest) {
  std::vector<std::vector<KeyValue>> datasets = {
      {},
      {Str("k", "v")},
      {Str("k", "w")},
      {Str("j", "v")},
      {Str("k", "")},
      {Str("k", "v"), Str("l", "v")},
      // Boundaries between items cannot be shifted: "ab"+"c" vs "a"+"bc".
      {KeyValue{.key = "k", .type = "list", .items = {"ab", "c"}}},
      {KeyValue{.key = "k", .type = "list", .items = {"a", "bc"}}},
      {KeyValue{.key = "k", .type = "list", .items = {"c", "ab"}}},
      {KeyValue{.key = "k", .type = "set", .items = {"ab", "c"}}},
      {KeyValue{.key = "k", .type = "hash", .pairs = {{"ab", "c"}}}},
      {KeyValue{.key = "k", .type = "hash", .pairs = {{"a", "bc"}}}},
      {KeyValue{.key = "k", .type = "zset", .pairs = {{"ab", "c"}}}},
      {KeyValue{.key = "k", .type = "zset", .pairs = {{"m", "1"}}}},
      {KeyValue{.key = "k", .type = "zset", .pairs = {{"m", "2"}}}},
      {KeyValue{.key = "k", .type = "stream", .entries = {{"1-1", {{"f", "v"}}}}}},
      {KeyValue{.key = "k", .type = "stream", .entries = {{"1-2", {{"f", "v"}}}}}},
      {KeyValue{.key = "k", .type = "stream", .entries = {{"1-1", {{"f", "w"}}}}}},
      {KeyValue{.key = "k", .type = "ReJSON-RL"}},
      // A key named like a rendering of two keys is still one key.
      {Str("k", "v\n1:l6:string1:v")},
      // New with the shared reader: module values read with DUMP, and bytes (NUL) are data.
      {KeyValue{.key = "k", .type = "ReJSON-RL", .str = "dump-a"}},
      {KeyValue{.key = "k", .type = "ReJSON-RL", .str = "dump-b"}},
      {Str(std::string("k\0", 2), "v")},
      {Str("k", std::string("v\0", 2))},
  };
  std::set<std::string> digests;
  for (const auto& d : datasets) digests.insert(DigestOf(d));
  EXPECT_EQ(digests.size(), datasets.size());
}

TEST(StateDigest, KnownValue) {
  // Pinned: the dashboard and older gateways compare digests across processes.
  EXPECT_EQ(DigestOf({}), "da39a3ee5e6b4b0d3255bfef95601890afd80709");  // sha1("")
  std::string text;
  AppendCanonical(Str("k", "v"), text);
  EXPECT_EQ(text, "1:k6:string1:v\n");
  text.clear();
  AppendCanonical(KeyValue{.key = "s", .type = "set", .items = {"a", "bb"}}, text);
  EXPECT_EQ(text, "1:s3:set2#1:a2:bb\n");
}

// The canonical form of every type, pinned on a fixed small dataset (docs/dataset-digest.md).
TEST(StateDigest, CanonicalFormOfAFixedDataset) {
  std::vector<KeyValue> ds = {
      KeyValue{.key = "h", .type = "hash", .pairs = {{"b", "2"}, {"a", "1"}}},
      KeyValue{.key = "l", .type = "list", .items = {"z", "a"}},
      KeyValue{.key = "m", .type = "ReJSON-RL"},
      KeyValue{.key = "s", .type = "set", .items = {"y", "x"}},
      KeyValue{.key = "str", .type = "string", .str = std::string("a\0b", 3), .ttl_ms = 5},
      KeyValue{.key = "x", .type = "stream", .entries = {{"1-1", {{"f", "v"}, {"g", "w"}}}}},
      KeyValue{.key = "z", .type = "zset", .pairs = {{"b", "1"}, {"a", "2.5"}}},
  };
  std::string text;
  for (auto& kv : ds) {
    Canonicalize(kv);
    AppendCanonical(kv, text);
  }
  using namespace std::string_literals;  // "..."s keeps the NUL byte
  EXPECT_EQ(text, "1:h4:hash2#1:a1:11:b1:2\n"
                  "1:l4:list2#1:z1:a\n"
                  "1:m9:ReJSON-RL\n"
                  "1:s3:set2#1:x1:y\n"
                  "3:str6:string3:a\0b\n"
                  "1:x6:stream1#3:1-12#1:f1:v1:g1:w\n"
                  "1:z4:zset2#1:b1:11:a3:2.5\n"s);
  EXPECT_EQ(DigestOf(ds), "e293c6752226f253a10f084d04e77aa9b26d5cfc");
  EXPECT_EQ(KeyDigest(ds[4]), "cd794f7b5c3467cc765153537dff71d2b3743e42");
}

}  // namespace
}  // namespace walrus::dataset
