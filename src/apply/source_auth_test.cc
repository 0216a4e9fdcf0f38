#include "apply/source_auth.h"

#include <gtest/gtest.h>

namespace walrus::apply {
namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef-test-key";
const std::string kNewKey = "fedcba9876543210fedcba9876543210-new-key";
const std::string kStrangerKey = "a-key-the-appliers-never-heard-of-0000000";

SrcKeyRing Ring(const std::string& text) {
  auto r = SrcKeyRing::Parse(text, "test");
  EXPECT_TRUE(r);
  return *r;
}

// A record as a mirror writes it into `topic`[`partition`]: headers so far + walrus-src + mac.
struct TestRecord {
  std::string topic = "redis-writes";
  int32_t partition = 3;
  int64_t ts = 1764000000000;
  std::string key = "c";
  std::string value = R"({"cmd":"INCRBY","key":"c","args":["1"]})";
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;

  // Appends the pair a mirror holding `secret` would (target = this record's topic/partition
  // unless given: an earlier hop wrote elsewhere).
  void Mirror(const std::string& secret, const std::string& src,
              std::optional<std::pair<std::string, int32_t>> target = std::nullopt) {
    SrcMac mac({secret, SrcKeyRing::KeyId(secret)});
    mac.Begin({.target_topic = target ? target->first : topic,
               .target_partition = target ? target->second : partition,
               .src = src,
               .timestamp_ms = ts,
               .key = key,
               .value = value,
               .header_count = headers.size()});
    for (const auto& [n, v] : headers) {
      mac.Header(n, v ? std::optional<std::string_view>(*v) : std::nullopt);
    }
    char out[SrcMac::kValueSize];
    mac.Finish(out);
    headers.push_back({"walrus-src", src});
    headers.push_back({kSrcMacHeader, std::string(out, sizeof out)});
  }

  Result<SourceCoords> Check(SourceAuth& auth) {
    views.clear();
    for (const auto& [n, v] : headers) {
      views.push_back({n, v ? std::optional<std::string_view>(*v) : std::nullopt});
    }
    return auth.Authenticate(RecordView{.topic = topic,
                                        .partition = partition,
                                        .timestamp_ms = ts,
                                        .key = key,
                                        .value = value,
                                        .headers = &views});
  }
  std::vector<HeaderView> views;
};

void ExpectRefused(const Result<SourceCoords>& r, const std::string& why) {
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().Is(Errc::kRefused)) << r.error().message;
  EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
}

TEST(SourceAuthTest, GenuineMirroredRecordIsTrusted) {
  SourceAuth auth(Ring(kKey), {"dc"});
  TestRecord rec;
  rec.headers = {{"walrus-origin", "dc"}};
  rec.Mirror(kKey, "dc/redis-writes/3/41");
  auto c = rec.Check(auth);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->stream, "dc/redis-writes/3");
  EXPECT_EQ(c->offset, 41);
  EXPECT_EQ(c->alias, "dc");
  EXPECT_EQ(c->topic, "redis-writes");
  EXPECT_EQ(c->partition, 3);
}

TEST(SourceAuthTest, ForgedCoordinatesAreRefused) {
  SourceAuth auth(Ring(kKey), {"dc"});
  TestRecord forged;  // what kcat -H walrus-src=... produces: no MAC at all
  forged.headers = {{"walrus-src", "dc/redis-writes/3/999999999999999999"}};
  ExpectRefused(forged.Check(auth), "no walrus-src-mac header follows it");

  TestRecord genuine;
  genuine.Mirror(kKey, "dc/redis-writes/3/41");
  // The genuine MAC beside raised coordinates.
  TestRecord raised = genuine;
  raised.headers[0].second = "dc/redis-writes/3/999999999999999999";
  ExpectRefused(raised.Check(auth), "does not match");
  // The genuine pair copied onto another payload.
  TestRecord copied = genuine;
  copied.value = R"({"cmd":"INCRBY","key":"c","args":["1000"]})";
  ExpectRefused(copied.Check(auth), "does not match");
  // ... into another partition, or with another timestamp.
  TestRecord moved = genuine;
  moved.partition = 4;
  ExpectRefused(moved.Check(auth), "does not match");
  TestRecord retimed = genuine;
  retimed.ts += 3600 * 1000;
  ExpectRefused(retimed.Check(auth), "does not match");
  // A header slipped in before the pair, or after it.
  TestRecord more = genuine;
  more.headers.insert(more.headers.begin(), {"walrus-origin", "dr"});
  ExpectRefused(more.Check(auth), "does not match");
  TestRecord trailing = genuine;
  trailing.headers.push_back({"x-extra", "1"});
  ExpectRefused(trailing.Check(auth), "after walrus-src-mac is not covered");
  // A MAC made with a key this applier does not hold.
  TestRecord stranger;
  stranger.Mirror(kStrangerKey, "dc/redis-writes/3/41");
  ExpectRefused(stranger.Check(auth), "not one of this applier's keys");
  // Garbage in the MAC header.
  TestRecord garbage = genuine;
  garbage.headers[1].second = "v1:00000000:beef";
  ExpectRefused(garbage.Check(auth), "malformed walrus-src-mac");
}

TEST(SourceAuthTest, UntrustedAliasAndMissingKeysAreRefused) {
  TestRecord rec;
  rec.Mirror(kKey, "us/redis-writes/3/41");
  SourceAuth dc_only(Ring(kKey), {"dc", "eu"});
  ExpectRefused(rec.Check(dc_only), "source alias 'us' is not trusted (--trusted-source dc,eu)");
  SourceAuth no_keys(SrcKeyRing(), {});
  ExpectRefused(rec.Check(no_keys), "no source key (--src-key-file");
}

TEST(SourceAuthTest, RotatedKeysVerify) {
  TestRecord old_signed, new_signed;
  old_signed.Mirror(kKey, "dc/redis-writes/3/41");
  new_signed.Mirror(kNewKey, "dc/redis-writes/3/42");
  // During a rotation: the new key signs, the previous one is still accepted.
  SourceAuth both(Ring(kNewKey + "\n" + kKey), {"dc"});
  EXPECT_TRUE(old_signed.Check(both));
  EXPECT_TRUE(new_signed.Check(both));
  // Retired: the old key's records are refused, naming the key id.
  SourceAuth retired(Ring(kNewKey), {"dc"});
  ExpectRefused(old_signed.Check(retired), SrcKeyRing::KeyId(kKey));
  EXPECT_TRUE(new_signed.Check(retired));
}

TEST(SourceAuthTest, EveryHopOfAChainIsChecked) {
  SourceAuth auth(Ring(kKey), {"a", "b"});
  // a/t/0/5 copied into b's topic "a.t" partition 0 at offset 9, then into ours.
  TestRecord rec;
  rec.topic = "b.a.t";
  rec.partition = 0;
  rec.Mirror(kKey, "a/t/0/5", std::pair<std::string, int32_t>{"a.t", 0});
  rec.Mirror(kKey, "b/a.t/0/9");
  auto c = rec.Check(auth);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->stream, "b/a.t/0");
  EXPECT_EQ(c->offset, 9);
  // A forged first hop (produced into b directly, then genuinely mirrored) is refused here as
  // it is in b: the regions agree.
  TestRecord chained;
  chained.topic = "b.a.t";
  chained.partition = 0;
  chained.headers = {{"walrus-src", "a/t/0/999999999999999999"}};
  chained.Mirror(kKey, "b/a.t/0/10");
  ExpectRefused(chained.Check(auth), "a/t/0/999999999999999999");
  SourceAuth b_only(Ring(kKey), {"b"});
  ExpectRefused(rec.Check(b_only), "source alias 'a' is not trusted");
}

TEST(SourceAuthTest, MalformedCoordinatesAreDecodeErrors) {
  SourceAuth auth(Ring(kKey), {"dc"});
  TestRecord rec;
  rec.Mirror(kKey, "dc/redis-writes/x/1");
  auto c = rec.Check(auth);
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().Is(Errc::kDecode));
  EXPECT_NE(c.error().message.find("malformed walrus-src"), std::string::npos);
}

}  // namespace
}  // namespace walrus::apply
