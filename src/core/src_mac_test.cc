#include "core/src_mac.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <vector>

#include "core/hmac_sha256.h"
#include "core/src_key_ring.h"

namespace walrus {
namespace {

std::string Hex(const uint8_t* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kHex[p[i] >> 4]);
    s.push_back(kHex[p[i] & 0xf]);
  }
  return s;
}

TEST(HmacSha256Test, Rfc4231Vectors) {
  uint8_t tag[HmacSha256::kSize];
  HmacSha256::Compute(std::string(20, '\x0b'), "Hi There", tag);
  EXPECT_EQ(Hex(tag, sizeof tag),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  HmacSha256::Compute("Jefe", "what do ya want for nothing?", tag);
  EXPECT_EQ(Hex(tag, sizeof tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size (hashed first).
  HmacSha256::Compute(std::string(131, '\xaa'),
                      "Test Using Larger Than Block-Size Key - Hash Key First", tag);
  EXPECT_EQ(Hex(tag, sizeof tag),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, ReusedContextRestartsEachMessage) {
  HmacSha256 h("Jefe");
  uint8_t a[HmacSha256::kSize], b[HmacSha256::kSize];
  for (int i = 0; i < 3; ++i) {
    h.Begin();
    h.Update("what do ya want ");
    h.Update("for nothing?");
    h.Finish(a);
    EXPECT_EQ(Hex(a, sizeof a),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  h.Begin();
  h.Finish(b);  // empty message
  uint8_t c[HmacSha256::kSize];
  HmacSha256::Compute("Jefe", "", c);
  EXPECT_EQ(Hex(b, sizeof b), Hex(c, sizeof c));
}

TEST(HmacSha256Test, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

const std::string kKey = "0123456789abcdef0123456789abcdef-test-key";
const std::string kOtherKey = "fedcba9876543210fedcba9876543210-new-key";

struct Rec {
  std::string topic = "redis-writes";
  int32_t partition = 3;
  std::string src = "dc/redis-writes/3/42";
  int64_t ts = 1764000000000;
  std::optional<std::string> key = "k1";
  std::optional<std::string> value = R"({"cmd":"INCR","key":"k1"})";
  std::vector<std::pair<std::string, std::optional<std::string>>> headers = {
      {"walrus-origin", "dc"}, {"empty", ""}, {"null", std::nullopt}};
};

std::string Sign(const SrcKey& key, const Rec& r) {
  SrcMac mac(key);
  auto opt = [](const std::optional<std::string>& s) {
    return s ? std::optional<std::string_view>(*s) : std::nullopt;
  };
  mac.Begin({.target_topic = r.topic,
             .target_partition = r.partition,
             .src = r.src,
             .timestamp_ms = r.ts,
             .key = opt(r.key),
             .value = opt(r.value),
             .header_count = r.headers.size()});
  for (const auto& [n, v] : r.headers) mac.Header(n, opt(v));
  char out[SrcMac::kValueSize];
  mac.Finish(out);
  return std::string(out, sizeof out);
}

SrcKey Key(const std::string& secret) { return {secret, SrcKeyRing::KeyId(secret)}; }

// The documented input (docs/mirror.md), computed independently with Python's hmac module:
//   M = b"walrus-src-mac/v1\0" + s(topic) + u32(part) + s(src) + i64(ts) + opt(k) + opt(v)
//       + u32(n) + n * (s(name) + opt(value))
TEST(SrcMacTest, KnownVector) {
  EXPECT_EQ(SrcKeyRing::KeyId(kKey), "52cda59a");
  EXPECT_EQ(Sign(Key(kKey), Rec{}),
            "v1:52cda59a:d825ed031f9df7fddd241c6d4872654f0719cccc572de32b98f7efc41ec30ba9");
}

// Large pieces bypass the internal buffer: same documented input, same tag (Python again).
TEST(SrcMacTest, KnownVectorWithLargeValueAndHeader) {
  Rec r;
  r.topic = "t";
  r.partition = 0;
  r.src = "dc/t/0/1";
  r.ts = 1;
  r.key = std::nullopt;
  r.value = std::string(300, 'x');
  r.headers = {{"h", std::string(1000, 'y')}, {"n", std::nullopt}};
  EXPECT_EQ(Sign(Key(kKey), r),
            "v1:52cda59a:16676dd0414337922e4cdab444d62386c5022e5bec874a95ba2f2d7cd6bc1845");
}

TEST(SrcMacTest, EveryCoveredFieldChangesTheTag) {
  const std::string good = Sign(Key(kKey), Rec{});
  std::vector<Rec> tampered(14);
  tampered[0].src = "dc/redis-writes/3/999999999999999999";  // coordinates
  tampered[1].src = "us/redis-writes/3/42";                  // alias
  tampered[2].topic = "other";                                // target topic
  tampered[3].partition = 4;                                  // target partition
  tampered[4].ts += 1;                                        // timestamp
  tampered[5].key = "k2";                                     // key
  tampered[6].key = std::nullopt;                             // null key vs "k1"
  tampered[7].value = R"({"cmd":"INCRBY","key":"k1","args":["9"]})";  // value
  tampered[8].headers[0].second = "us";                       // header value
  tampered[9].headers[1].second = std::nullopt;               // empty vs null header
  tampered[10].headers.pop_back();                            // a header removed
  tampered[11].headers.push_back({"x", "y"});                 // a header added
  std::swap(tampered[12].headers[0], tampered[12].headers[1]);  // header order
  tampered[13].headers[0].first = "walrus-originx";           // header name
  for (size_t i = 0; i < tampered.size(); ++i) {
    EXPECT_NE(Sign(Key(kKey), tampered[i]), good) << "tampering #" << i << " not detected";
  }
  // Boundaries are length-prefixed: moving a byte from key to value changes the tag.
  Rec a, b;
  a.key = "ab";
  a.value = "c";
  b.key = "a";
  b.value = "bc";
  EXPECT_NE(Sign(Key(kKey), a), Sign(Key(kKey), b));
}

TEST(SrcMacTest, WrongKeyFailsAndMatchesIsConstantTimeOnTheTag) {
  const std::string good = Sign(Key(kKey), Rec{});
  const std::string other = Sign(Key(kOtherKey), Rec{});
  EXPECT_NE(good.substr(12), other.substr(12));
  EXPECT_NE(good.substr(3, 8), other.substr(3, 8));  // different key ids
  auto parsed = ParseSrcMacValue(good);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->key_id, "52cda59a");
  // Verify as the applier does: recompute, compare.
  auto verify = [&](const SrcKey& k, const Rec& r, const SrcMacValue& v) {
    SrcMac mac(k);
    auto opt = [](const std::optional<std::string>& s) {
      return s ? std::optional<std::string_view>(*s) : std::nullopt;
    };
    mac.Begin({r.topic, r.partition, r.src, r.ts, opt(r.key), opt(r.value), r.headers.size()});
    for (const auto& [n, val] : r.headers) mac.Header(n, opt(val));
    return mac.Matches(v);
  };
  EXPECT_TRUE(verify(Key(kKey), Rec{}, *parsed));
  EXPECT_FALSE(verify(Key(kOtherKey), Rec{}, *parsed));
  Rec forged;
  forged.value = R"({"cmd":"SET","key":"k1","args":["evil"]})";
  EXPECT_FALSE(verify(Key(kKey), forged, *parsed));  // genuine header, other payload
}

TEST(SrcMacTest, ParsesOnlyWellFormedValues) {
  const std::string good = Sign(Key(kKey), Rec{});
  EXPECT_TRUE(ParseSrcMacValue(good));
  for (std::string bad : {std::string(), std::string("v1:"), good.substr(1), good + "0",
                          "v2" + good.substr(2), good.substr(0, 11) + ";" + good.substr(12)}) {
    EXPECT_FALSE(ParseSrcMacValue(bad)) << bad;
  }
  std::string upper = good;
  upper[20] = 'A';
  EXPECT_FALSE(ParseSrcMacValue(upper));
}

TEST(SrcKeyRingTest, ParsesKeysCommentsAndRotation) {
  auto ring = SrcKeyRing::Parse("# current first\n" + kOtherKey + "\n\n  " + kKey +
                                    "  # previous, still accepted\n",
                                "test");
  ASSERT_TRUE(ring) << ring.error().message;
  ASSERT_EQ(ring->keys().size(), 2u);
  EXPECT_EQ(ring->signing().secret, kOtherKey);
  EXPECT_EQ(ring->Ids(), SrcKeyRing::KeyId(kOtherKey) + ",52cda59a");
  // A record signed with the previous key still verifies: its id finds the key.
  const std::string old_signed = Sign(Key(kKey), Rec{});
  const SrcKey* k = ring->Find(ParseSrcMacValue(old_signed)->key_id);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(Sign(*k, Rec{}), old_signed);
  // Retired (not in the ring): not found.
  auto only_new = SrcKeyRing::Parse(kOtherKey, "test");
  ASSERT_TRUE(only_new);
  EXPECT_EQ(only_new->Find("52cda59a"), nullptr);
}

TEST(SrcKeyRingTest, RefusesWeakDuplicateOrMissingKeys) {
  for (const std::string& bad : {std::string(""), std::string("# only a comment\n"),
                                 std::string("short"), kKey + "\n" + kKey,
                                 std::string(31, 'a'), std::string(40, 'a') + "\x01"}) {
    auto r = SrcKeyRing::Parse(bad, "--src-key-file f");
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("--src-key-file f"), std::string::npos);
      // Never the key itself in a message.
      if (bad.size() >= 32) {
        EXPECT_EQ(r.error().message.find(bad.substr(0, 32)), std::string::npos);
      }
    }
  }
  EXPECT_TRUE(SrcKeyRing::Parse(std::string(32, 'a'), "t"));
}

TEST(SrcKeyRingTest, LoadsFromFileOrEnvNotBoth) {
  const std::string path = ::testing::TempDir() + "/src-key-test";
  {
    std::ofstream(path) << kKey << "\n";
  }
  ::unsetenv("WALRUS_SRC_KEY");
  auto r = LoadSrcKeys(path);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->signing().secret, kKey);
  EXPECT_TRUE(LoadSrcKeys("")->empty());
  EXPECT_FALSE(LoadSrcKeys(path + ".missing"));
  ::setenv("WALRUS_SRC_KEY", kOtherKey.c_str(), 1);
  auto e = LoadSrcKeys("");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->signing().secret, kOtherKey);
  EXPECT_FALSE(LoadSrcKeys(path));  // both
  ::unsetenv("WALRUS_SRC_KEY");
}

}  // namespace
}  // namespace walrus
