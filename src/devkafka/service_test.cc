// In-process tests of the devkafka service: Run() lifecycle and the admin endpoint.

#include "devkafka/service.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "kafka/admin.h"
#include "kafka/producer.h"

namespace walrus::devkafka {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(DevkafkaServiceTest, RunPrintsLinesWritesFileAndStops) {
  const std::string file = ::testing::TempDir() + "devkafka-" + std::to_string(getpid()) + ".env";
  Config config;
  config.clusters = {"us", "eu"};
  config.brokers = 2;
  config.topics = {{"us.events", 6}, {"eu.events", 3}};
  config.bootstrap_file = file;
  {
    std::ofstream stale(file);
    stale << "stale=1.2.3.4:1\n";
  }
  std::atomic<bool> stop{false};
  std::ostringstream out;
  int code = -1;
  std::thread runner([&] { code = devkafka::Run(config, out, stop); });
  // The stale file is removed first; the new one appears once everything is ready.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::string content;
  while (std::chrono::steady_clock::now() < deadline) {
    content = ReadFile(file);
    if (content.rfind("us=", 0) == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(content.rfind("us=", 0), 0u) << content;
  std::istringstream lines(content);
  std::string us, eu;
  std::getline(lines, us);
  std::getline(lines, eu);
  EXPECT_EQ(eu.rfind("eu=", 0), 0u);
  EXPECT_EQ(std::count(us.begin(), us.end(), ','), 1);  // two brokers

  // Every topic exists on every cluster with its partition count.
  for (const std::string& line : {us, eu}) {
    auto topics = kafka::ListTopics({{"bootstrap.servers", line.substr(3)}}, 5s);
    ASSERT_TRUE(topics.ok()) << topics.error().message;
    ASSERT_EQ(topics->size(), 2u);
    EXPECT_EQ((*topics)[0].name, "eu.events");
    EXPECT_EQ((*topics)[0].partitions, 3);
    EXPECT_EQ((*topics)[1].name, "us.events");
    EXPECT_EQ((*topics)[1].partitions, 6);
  }
  stop = true;
  runner.join();
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out.str(), content);  // stdout and the file carry the same lines
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(DevkafkaServiceTest, InvalidConfigExitsTwo) {
  Config config;
  config.brokers = 0;
  std::atomic<bool> stop{true};
  std::ostringstream out;
  EXPECT_EQ(devkafka::Run(config, out, stop), 2);
  EXPECT_TRUE(out.str().empty());
}

TEST(DevkafkaServiceTest, AdminEndpointControlsClusters) {
  Config config;
  config.clusters = {"local"};
  config.brokers = 2;
  config.topics = {{"t", 2}};
  config.admin = "127.0.0.1:0";
  auto service = Service::Start(config);
  ASSERT_TRUE(service.ok()) << service.error().message;
  const int port = (*service)->admin_port();
  ASSERT_GT(port, 0);
  httplib::Client http("127.0.0.1", port);

  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto clusters = http.Get("/clusters");
  ASSERT_TRUE(clusters);
  EXPECT_EQ(clusters->body, (*service)->lines()[0] + "\n");

  EXPECT_EQ(http.Post("/clusters/nope/brokers/1/down")->status, 404);
  EXPECT_EQ(http.Post("/clusters/local/brokers/9/down")->status, 404);
  EXPECT_EQ(http.Post("/clusters/local/topics/new?partitions=5")->status, 200);
  EXPECT_EQ(http.Post("/clusters/local/topics/new?partitions=5")->status, 409);
  EXPECT_EQ(http.Post("/clusters/local/topics/bad")->status, 400);
  const std::string bootstraps = (*service)->Find("local")->bootstraps();
  auto topics = kafka::ListTopics({{"bootstrap.servers", bootstraps}}, 5s);
  ASSERT_TRUE(topics.ok());
  ASSERT_EQ(topics->size(), 2u);
  EXPECT_EQ((*topics)[0].name, "new");
  EXPECT_EQ((*topics)[0].partitions, 5);

  // Broker 1 leads t[0]; take it down: producing stalls until the leader moves to broker 2.
  // (message.timeout.ms leaves room for a new producer's first metadata round, up to ~1 s.)
  ASSERT_EQ(http.Post("/clusters/local/topics/t/partitions/0/leader/1")->status, 200);
  auto producer = kafka::Producer::Create(
      {{"bootstrap.servers", bootstraps}, {"message.timeout.ms", "3000"},
       {"reconnect.backoff.max.ms", "500"}});
  ASSERT_TRUE(producer.ok());
  auto first = (*producer)->ProduceSync({.topic = "t", .partition = 0, .value = "a"}, 10s);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(http.Post("/clusters/local/brokers/1/down")->status, 200);
  EXPECT_FALSE((*producer)->ProduceSync({.topic = "t", .partition = 0, .value = "b"}, 10s).ok());
  ASSERT_EQ(http.Post("/clusters/local/topics/t/partitions/0/leader/2")->status, 200);
  EXPECT_TRUE((*producer)->ProduceSync({.topic = "t", .partition = 0, .value = "c"}, 10s).ok());
  EXPECT_EQ(http.Post("/clusters/local/brokers/1/up")->status, 200);
}

}  // namespace
}  // namespace walrus::devkafka
