// Throughput probe for Consumer::PollBatch on a mock cluster: produces N small records, then
// times how fast one consumer drains them. Prints figures, asserts nothing.
//
//   kafka_poll_bench [records=200000] [partitions=8] [batch=10000]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/log.h"
#include "kafka/consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"

using namespace std::chrono_literals;
using walrus::kafka::Consumer;
using walrus::kafka::MockCluster;
using walrus::kafka::Producer;

int main(int argc, char** argv) {
  walrus::InitLogging("warn");
  const int records = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int partitions = argc > 2 ? std::atoi(argv[2]) : 8;
  const size_t batch = argc > 3 ? static_cast<size_t>(std::atoi(argv[3])) : 10000;
  auto cluster = MockCluster::Create(1);
  if (!cluster || !(*cluster)->CreateTopic("bench", partitions).ok()) return 1;
  const std::string brokers = (*cluster)->bootstraps();

  auto producer = Producer::Create({{"bootstrap.servers", brokers}, {"linger.ms", "20"}});
  if (!producer) return 1;
  const auto p0 = std::chrono::steady_clock::now();
  for (int i = 0; i < records; ++i) {
    std::string key = "key:" + std::to_string(i % 5000);
    std::string value = R"({"cmd":"INCR","key":")" + key + R"("})";
    if (!(*producer)->Produce({.topic = "bench", .key = key, .value = value}, nullptr).ok()) return 1;
  }
  if (!(*producer)->Flush(60s).ok()) return 1;
  const double produce_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
  std::printf("produced %d records in %.2f s (%.0f/s)\n", records, produce_s, records / produce_s);

  auto consumer = Consumer::Create({{"bootstrap.servers", brokers}, {"group.id", "bench"}}, nullptr);
  if (!consumer || !(*consumer)->Subscribe({"bench"}).ok()) return 1;
  // Wait for the first record (group join), then time the rest.
  size_t got = 0, polls = 0, largest = 0;
  while (got == 0) got = (*consumer)->PollBatch(1, 1s).size();
  const auto c0 = std::chrono::steady_clock::now();
  while (got < static_cast<size_t>(records)) {
    auto msgs = (*consumer)->PollBatch(batch, 1s);
    if (msgs.empty() && std::chrono::steady_clock::now() - c0 > 60s) break;
    got += msgs.size();
    largest = std::max(largest, msgs.size());
    ++polls;
  }
  const double consume_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
  std::printf("consumed %zu records in %.2f s (%.0f/s), %zu polls, largest batch %zu\n", got,
              consume_s, got / consume_s, polls, largest);
  (*consumer)->Close();
  return got == static_cast<size_t>(records) ? 0 : 1;
}
