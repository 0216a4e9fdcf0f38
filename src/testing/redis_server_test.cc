#include "testing/redis_server.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

namespace walrus::test {
namespace {

TEST(RedisServer, StartsAnswersAndCleansUp) {
  std::string dir;
  int pid = 0;
  {
    auto srv = RedisServer::Start();
    ASSERT_TRUE(srv.ok()) << srv.error().message;
    dir = (*srv)->dir();
    pid = (*srv)->pid();
    EXPECT_TRUE(std::filesystem::is_directory(dir));
    EXPECT_EQ((*srv)->url(), "redis://127.0.0.1:" + std::to_string((*srv)->port()));
    auto out =
        RunCommand({"redis-cli", "-p", std::to_string((*srv)->port()), "CONFIG", "GET", "save"});
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, "save\n\n");  // --save "" took effect
    auto dir_cfg =
        RunCommand({"redis-cli", "-p", std::to_string((*srv)->port()), "CONFIG", "GET", "dir"});
    ASSERT_TRUE(dir_cfg.ok());
    EXPECT_NE(dir_cfg->find(std::filesystem::canonical(dir).string()), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(kill(pid, 0), 0);  // gone
}

TEST(RedisServer, RestartKeepsPortAndLoadsRdb) {
  auto srv = RedisServer::Start();
  ASSERT_TRUE(srv.ok()) << srv.error().message;
  const int port = (*srv)->port();
  const int old_pid = (*srv)->pid();
  {
    auto c = (*srv)->Connect();
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE((*c)->CommandOk({"SET", "survivor", "yes"}).ok());
    ASSERT_TRUE((*c)->CommandOk({"SET", "unsaved", "1"}).ok());
    ASSERT_TRUE((*c)->CommandOk({"SAVE"}).ok());
    ASSERT_TRUE((*c)->CommandOk({"DEL", "survivor"}).ok());  // after SAVE: lost by the crash
  }
  (*srv)->Kill9();
  EXPECT_FALSE((*srv)->running());
  ASSERT_TRUE((*srv)->Restart().ok());
  EXPECT_EQ((*srv)->port(), port);
  EXPECT_NE((*srv)->pid(), old_pid);
  auto c = (*srv)->Connect();
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto v = (*c)->Command({"GET", "survivor"});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->str(), "yes");  // from the RDB, so the DEL after SAVE was lost
}

TEST(RedisServer, StopTerminatesGracefully) {
  auto srv = RedisServer::Start();
  ASSERT_TRUE(srv.ok()) << srv.error().message;
  ASSERT_TRUE((*srv)->Stop().ok());
  EXPECT_FALSE((*srv)->running());
  EXPECT_NE((*srv)->ReadLog().find("ready to exit"), std::string::npos) << (*srv)->ReadLog();
  EXPECT_FALSE((*srv)->Connect().ok());
}

TEST(RedisServer, BadArgumentFailsWithLog) {
  RedisServerOptions o;
  o.args = {"--no-such-option", "1"};
  auto srv = RedisServer::Start(o);
  ASSERT_FALSE(srv.ok());
  EXPECT_NE(srv.error().message.find("no-such-option"), std::string::npos) << srv.error().message;
}

}  // namespace
}  // namespace walrus::test
