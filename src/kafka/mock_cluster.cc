#include "kafka/mock_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "kafka/handles.h"  // rdkafka.h, which rdkafka_mock.h needs first

#include <librdkafka/rdkafka_mock.h>

namespace walrus::kafka {

using internal::ToError;

struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* m) const { rd_kafka_mock_cluster_destroy(m); }
};

struct MockCluster::Impl {
  internal::KafkaPtr host;  // declared first: destroyed after the mock it hosts
  std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter> mock;
};

MockCluster::MockCluster(std::unique_ptr<Impl> impl, int brokers, std::string bootstraps)
    : impl_(std::move(impl)), brokers_(brokers), bootstraps_(std::move(bootstraps)) {}

MockCluster::~MockCluster() = default;

Result<std::unique_ptr<MockCluster>> MockCluster::Create(int brokers) {
  if (brokers < 1) return Error(Errc::kInvalidArgument, "mock cluster needs at least one broker");
  // The hosting client never connects anywhere; it only owns the mock's thread.
  auto conf = internal::MakeConf({{"client.id", "walrus-mock-host"}, {"log_level", "4"}}, {});
  if (!conf) return conf.error();
  auto host = internal::NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!host) return host.error();
  auto impl = std::make_unique<Impl>();
  impl->host = std::move(*host);
  impl->mock.reset(rd_kafka_mock_cluster_new(impl->host.get(), brokers));
  if (!impl->mock) return Error(Errc::kInternal, "could not create the mock kafka cluster");
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(impl->mock.get());
  return std::unique_ptr<MockCluster>(
      new MockCluster(std::move(impl), brokers, std::move(bootstraps)));
}

Status MockCluster::CreateTopic(const std::string& name, int partitions, int replication_factor) {
  if (name.empty() || partitions < 1) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("mock topic '{}' with {} partitions", name, partitions));
  }
  const int rf = std::clamp(replication_factor, 1, brokers_);
  auto e = rd_kafka_mock_topic_create(impl_->mock.get(), name.c_str(), partitions, rf);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return ToError(e, "create mock topic " + name);
  return Status::Ok();
}

Status MockCluster::SetBrokerDown(int32_t broker_id) {
  auto e = rd_kafka_mock_broker_set_down(impl_->mock.get(), broker_id);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return ToError(e, fmt::format("broker {} down", broker_id));
  return Status::Ok();
}

Status MockCluster::SetBrokerUp(int32_t broker_id) {
  auto e = rd_kafka_mock_broker_set_up(impl_->mock.get(), broker_id);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return ToError(e, fmt::format("broker {} up", broker_id));
  return Status::Ok();
}

Status MockCluster::SetPartitionLeader(const std::string& topic, int32_t partition,
                                       int32_t broker_id) {
  auto e = rd_kafka_mock_partition_set_leader(impl_->mock.get(), topic.c_str(), partition,
                                              broker_id);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, fmt::format("leader of {}[{}] -> broker {}", topic, partition, broker_id));
  }
  return Status::Ok();
}

Status MockCluster::SetBrokerRtt(int32_t broker_id, int rtt_ms) {
  auto e = rd_kafka_mock_broker_set_rtt(impl_->mock.get(), broker_id, rtt_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return ToError(e, fmt::format("broker {} rtt", broker_id));
  return Status::Ok();
}

void MockCluster::FailNextFetches(size_t count, int error) {
  constexpr int16_t kFetchApiKey = 1;
  std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(impl_->mock.get(), kFetchApiKey, count, errors.data());
}

}  // namespace walrus::kafka
