// Runs the devkafka command as a real process (the stand-alone walrus_devkafka_main binary):
// waits on --bootstrap-file, talks to the clusters with our client and, when installed, kcat
// as an independent witness, then stops it with SIGTERM.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kafka/admin.h"

extern char** environ;

namespace walrus::devkafka {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A child process with stdout/stderr captured to files; killed if still running at the end.
class Child {
 public:
  Child(std::vector<std::string> args, const std::string& dir) : out_(dir + "/out"), err_(dir + "/err") {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // Exit code, or -1 if it did not exit within `timeout` (or died of a signal).
  int Wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  std::string out() const { return ReadFile(out_); }
  std::string err() const { return ReadFile(err_); }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class DevkafkaProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "devkafka-proc-" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(DevkafkaProcessTest, ServesClustersUntilSigterm) {
  const std::string file = dir_ + "/bootstrap.env";
  Child child({WALRUS_DEVKAFKA_MAIN, "devkafka", "--cluster", "us", "--cluster", "eu",
               "--topic", "redis-writes:12", "--bootstrap-file", file, "--log-level", "info"},
              dir_);
  ASSERT_GT(child.pid(), 0);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!std::filesystem::exists(file) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(std::filesystem::exists(file)) << child.err();
  const std::string content = ReadFile(file);
  EXPECT_EQ(child.out(), content);  // stdout flushed before the file was written
  EXPECT_NE(child.err().find("ready"), std::string::npos) << child.err();
  std::istringstream lines(content);
  std::string us, eu;
  std::getline(lines, us);
  std::getline(lines, eu);
  ASSERT_EQ(us.rfind("us=127.0.0.1:", 0), 0u) << content;
  ASSERT_EQ(eu.rfind("eu=127.0.0.1:", 0), 0u) << content;
  const std::string us_brokers = us.substr(3);

  auto topics = kafka::ListTopics({{"bootstrap.servers", us_brokers}}, 5s);
  ASSERT_TRUE(topics.ok()) << topics.error().message;
  ASSERT_EQ(topics->size(), 1u);
  EXPECT_EQ((*topics)[0].partitions, 12);

  if (std::filesystem::exists("/usr/bin/kcat")) {
    // An independent client: produce one keyed record and read it back.
    Shell("printf 'k1:hello\\n' | /usr/bin/kcat -b " + us_brokers +
          " -P -t redis-writes -K: -p 3 2>/dev/null");
    const std::string got = Shell("/usr/bin/kcat -b " + us_brokers +
                                  " -C -t redis-writes -p 3 -o beginning -e -f '%k=%s\\n' 2>/dev/null");
    EXPECT_EQ(got, "k1=hello\n");
  }

  ASSERT_EQ(kill(child.pid(), SIGTERM), 0);
  EXPECT_EQ(child.Wait(15s), 0) << child.err();
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(DevkafkaProcessTest, BadTopicFlagFailsClearly) {
  Child child({WALRUS_DEVKAFKA_MAIN, "devkafka", "--topic", "redis-writes"}, dir_);
  ASSERT_GT(child.pid(), 0);
  const int code = child.Wait(10s);
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -1);
  EXPECT_NE(child.err().find("NAME:PARTITIONS"), std::string::npos) << child.err();
}

TEST_F(DevkafkaProcessTest, FlagsComeFromEnvironment) {
  const std::string file = dir_ + "/env.env";
  const std::string cmd = "WALRUS_DEVKAFKA_CLUSTER=a,b WALRUS_DEVKAFKA_TOPIC=x:2 WALRUS_BOOTSTRAP_FILE=" + file +
                          " timeout --preserve-status -s TERM 2 " WALRUS_DEVKAFKA_MAIN " devkafka >" + dir_ +
                          "/env.out 2>&1; echo exit=$?";
  const std::string result = Shell(cmd);
  const std::string out = ReadFile(dir_ + "/env.out");
  EXPECT_NE(out.find("a=127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("b=127.0.0.1:"), std::string::npos) << out;
  EXPECT_EQ(result, "exit=0\n") << out;  // SIGTERM from timeout: clean stop
}

}  // namespace
}  // namespace walrus::devkafka
