// Unit tests: flag -> flow building, topic selection, walrus-src format, loop guard.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "mirror/mirror_config.h"
#include "mirror/record_copy.h"

namespace walrus::mirror {
namespace {

TEST(MirrorConfig, SingleFlowFromSourceTarget) {
  MirrorFlags f;
  f.source = "a:1";
  f.target = "b:2";
  f.source_alias = "dc";
  f.target_alias = "dr";
  f.topics = {"redis-writes"};
  f.x_props = {"socket.timeout.ms=1000"};
  f.target_x = {"acks=all"};
  auto flows = BuildFlows(f);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].Name(), "dc:dr");
  EXPECT_EQ(flows[0].source_props.front(), (std::pair<std::string, std::string>{"bootstrap.servers", "a:1"}));
  EXPECT_EQ(flows[0].target_props.back(), (std::pair<std::string, std::string>{"acks", "all"}));
  EXPECT_TRUE(flows[0].Selects("redis-writes"));
  EXPECT_FALSE(flows[0].Selects("redis-writes.dlq"));
  EXPECT_EQ(flows[0].TargetTopic("redis-writes"), "redis-writes");
  f.naming = "prefix";
  EXPECT_EQ(BuildFlows(f)[0].TargetTopic("redis-writes"), "dc.redis-writes");
}

TEST(MirrorConfig, MeshFlowsWithTemplatedTopics) {
  MirrorFlags f;
  f.clusters = {"us=u:1", "eu=e:1", "ap=a:1"};
  f.flows = {"us:eu", "ap:eu"};
  auto flows = BuildFlows(f);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].topics, std::vector<std::string>{"us.events"});
  EXPECT_EQ(flows[1].topics, std::vector<std::string>{"ap.events"});
  EXPECT_EQ(flows[1].target_bootstrap, "e:1");
  f.topics = {"^{src}\\.events$"};
  flows = BuildFlows(f);
  EXPECT_TRUE(flows[0].Selects("us.events"));
  EXPECT_FALSE(flows[0].Selects("ap.events"));
  EXPECT_FALSE(flows[0].Selects("us.eventsX"));
}

TEST(MirrorConfig, RejectsBadFlags) {
  MirrorFlags f;
  EXPECT_THROW(BuildFlows(f), std::invalid_argument);  // no --source
  f.source = "a:1";
  f.target = "b:1";
  EXPECT_THROW(BuildFlows(f), std::invalid_argument);  // no --topics
  f.topics = {"t"};
  f.source_alias = "d/c";
  EXPECT_THROW(BuildFlows(f), std::invalid_argument);  // '/' in alias
  f.source_alias = "target";
  EXPECT_THROW(BuildFlows(f), std::invalid_argument);  // same aliases
  f.source_alias = "dc";
  f.topics = {"^(bad"};
  EXPECT_THROW(BuildFlows(f), std::invalid_argument);
  f.topics = {"t"};
  f.workers = 0;
  EXPECT_THROW(BuildFlows(f), std::invalid_argument);
  f.workers = 3;
  EXPECT_EQ(BuildFlows(f).at(0).workers, 3u);
  MirrorFlags m;
  m.clusters = {"us=u:1"};
  m.flows = {"us:eu"};
  EXPECT_THROW(BuildFlows(m), std::invalid_argument);  // unknown cluster
  m.flows = {"us:us"};
  EXPECT_THROW(BuildFlows(m), std::invalid_argument);
  m.flows = {"us"};
  EXPECT_THROW(BuildFlows(m), std::invalid_argument);
}

TEST(RecordCopy, SrcHeaderAndLoopGuard) {
  EXPECT_EQ(SrcHeaderValue("dc", "redis-writes", 3, 1234), "dc/redis-writes/3/1234");
  EXPECT_EQ(SrcHeaderPrefix("dc", "redis-writes", 3), "dc/redis-writes/3/");
  EXPECT_EQ(PositionKey("dc", "redis-writes", 3), "dc/redis-writes/3");
  const std::optional<std::string_view> none;
  EXPECT_FALSE(LoopsBack(none, none, "dr"));
  EXPECT_TRUE(LoopsBack("dr/t/0/5", none, "dr"));
  EXPECT_FALSE(LoopsBack("drx/t/0/5", none, "dr"));
  EXPECT_FALSE(LoopsBack("us/t/0/5", none, "dr"));
  EXPECT_FALSE(LoopsBack("dr", none, "d"));
  EXPECT_TRUE(LoopsBack(none, "dr", "dr"));
  EXPECT_FALSE(LoopsBack("", "us", "dr"));  // a null walrus-src reads as empty
}

TEST(MirrorConfig, SourceKeyIsRequiredUnlessNoSrcAuth) {
  ::unsetenv("WALRUS_SRC_KEY");
  MirrorFlags f;
  f.source = "a:1";
  f.target = "b:2";
  f.topics = {"t"};
  auto flows = BuildFlows(f);
  try {
    ApplySrcAuth(f, flows);
    FAIL() << "started without a key";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--no-src-auth"), std::string::npos) << e.what();
  }
  f.no_src_auth = true;
  EXPECT_EQ(ApplySrcAuth(f, flows), "");
  EXPECT_TRUE(flows[0].src_keys.empty());
  const std::string path = ::testing::TempDir() + "/mirror-src-key";
  std::ofstream(path) << "0123456789abcdef0123456789abcdef-test-key\n";
  f.src_key_file = path;
  EXPECT_THROW(ApplySrcAuth(f, flows), std::invalid_argument);  // key and --no-src-auth
  f.no_src_auth = false;
  EXPECT_EQ(ApplySrcAuth(f, flows), "52cda59a");
  EXPECT_EQ(flows[0].src_keys.signing().id, "52cda59a");
}

// The mirror never lets librdkafka reset a source position (docs/log-gaps.md).
TEST(MirrorConfig, RefusesAutoOffsetResetForTheSource) {
  MirrorFlags f;
  f.source = "s:1";
  f.target = "t:1";
  f.topics = {"t"};
  f.source_x = {"auto.offset.reset=earliest"};
  try {
    BuildFlows(f);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--source-X auto.offset.reset: refused"), std::string::npos)
        << e.what();
  }
  f.source_x.clear();
  f.x_props = {"auto.offset.reset=latest"};
  EXPECT_THROW(BuildFlows(f), std::invalid_argument);
  f.x_props.clear();
  f.target_x = {"auto.offset.reset=latest"};  // the target side has no consumer: harmless
  EXPECT_NO_THROW(BuildFlows(f));
}

}  // namespace
}  // namespace walrus::mirror
