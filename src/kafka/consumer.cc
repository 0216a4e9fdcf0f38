#include "kafka/consumer.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <set>

#include "core/log.h"
#include "kafka/handles.h"

namespace walrus::kafka {

using internal::FromList;
using internal::ToError;
using internal::ToList;

struct Consumer::Impl {
  internal::KafkaPtr rk;     // declared first: destroyed last
  internal::QueuePtr queue;  // the consumer queue (all callbacks are routed to it)
  RebalanceHandler* handler = nullptr;
  std::shared_ptr<spdlog::logger> log = Logger("kafka");
  std::atomic<bool> received_assignment{false};
  bool closed = false;
  bool rebalanced = false;  // a rebalance callback ran during the current PollBatch
  // Partitions assigned by our callbacks; filters records of revoked partitions.
  std::map<std::string, std::set<int32_t>, std::less<>> assigned;
  std::vector<rd_kafka_message_t*> buf;

  bool IsAssigned(std::string_view topic, int32_t partition) const {
    auto it = assigned.find(topic);
    return it != assigned.end() && it->second.count(partition) > 0;
  }

  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  // Assigns assigned partitions again at the given offsets (cooperative protocol only).
  Status Restart(const std::vector<TopicPartition>& parts);
};

namespace {

void RebalanceCallback(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<Consumer::Impl*>(opaque)->OnRebalance(err, parts);
}

void CommitCallback(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* offsets, void* /*opaque*/) {
  static const auto log = Logger("kafka");
  Status s = err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET
                 ? Status(ToError(err, "offset commit"))
                 : internal::ListStatus(offsets, "offset commit");
  if (!s.ok()) WALRUS_LOG_EVERY_MS(log, warn, 5000, "{}", s.error().message);
}

}  // namespace

void Consumer::Impl::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
  rebalanced = true;
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk.get()), "COOPERATIVE") == 0;
  std::vector<TopicPartition> tps = FromList(parts);
  Status s;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (handler != nullptr) handler->OnAssigned(tps);
    auto list = ToList(tps);
    if (cooperative) {
      s = internal::ToStatus(rd_kafka_incremental_assign(rk.get(), list.get()), "assign");
    } else if (auto e = rd_kafka_assign(rk.get(), list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      s = ToError(e, "assign");
    }
    if (!cooperative) assigned.clear();
    for (const auto& tp : tps) assigned[tp.topic].insert(tp.partition);
    log->info("assigned {} partitions", tps.size());
    received_assignment = true;
  } else {
    const bool lost = rd_kafka_assignment_lost(rk.get()) != 0;
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      log->error("rebalance error: {}", rd_kafka_err2str(err));
    }
    if (handler != nullptr) lost ? handler->OnLost(tps) : handler->OnRevoked(tps);
    if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      s = internal::ToStatus(rd_kafka_incremental_unassign(rk.get(), parts), "unassign");
      for (const auto& tp : tps) {
        auto it = assigned.find(tp.topic);
        if (it == assigned.end()) continue;
        it->second.erase(tp.partition);
        if (it->second.empty()) assigned.erase(it);
      }
    } else {
      if (auto e = rd_kafka_assign(rk.get(), nullptr); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        s = ToError(e, "unassign");
      }
      assigned.clear();
    }
    log->info("{} {} partitions", lost ? "lost" : "revoked", tps.size());
  }
  if (!s.ok()) log->error("rebalance: {}", s.error().message);
}

rd_kafka_t* internal::ConsumerHandle(const Consumer& consumer) {
  return consumer.impl_->rk.get();
}

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Consumer::~Consumer() { Close(); }

Result<std::unique_ptr<Consumer>> Consumer::Create(const Properties& props,
                                                   RebalanceHandler* handler) {
  if (!internal::HasProperty(props, "group.id")) {
    return Error(Errc::kInvalidArgument, "kafka consumer: group.id is required");
  }
  const Properties defaults = {
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
  };
  auto conf = internal::MakeConf(defaults, props);
  if (!conf) return conf.error();
  auto impl = std::make_unique<Impl>();
  impl->handler = handler;
  rd_kafka_conf_set_opaque(conf->get(), impl.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &RebalanceCallback);
  rd_kafka_conf_set_offset_commit_cb(conf->get(), &CommitCallback);
  auto rk = internal::NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) return rk.error();
  impl->rk = std::move(*rk);
  // Route logs, errors and rebalance events to the consumer queue, served by PollBatch.
  rd_kafka_poll_set_consumer(impl->rk.get());
  impl->queue.reset(rd_kafka_queue_get_consumer(impl->rk.get()));
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  internal::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), -1);
  if (auto e = rd_kafka_subscribe(impl_->rk.get(), list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, fmt::format("subscribe to {}", fmt::join(topics, ",")));
  }
  return Status::Ok();
}

std::vector<Message> Consumer::PollBatch(size_t max, std::chrono::milliseconds timeout) {
  std::vector<Message> out;
  if (max == 0 || impl_->closed) return out;
  impl_->rebalanced = false;
  for (rd_kafka_message_t* rkm : internal::ConsumeQueued(impl_->queue.get(), impl_->buf, max, timeout)) {
    // librdkafka 2.0 may hand out records of a partition revoked during the same batch call.
    if (impl_->rebalanced && rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR && rkm->rkt != nullptr &&
        !impl_->IsAssigned(rd_kafka_topic_name(rkm->rkt), rkm->partition)) {
      rd_kafka_message_destroy(rkm);
      continue;
    }
    out.emplace_back(rkm);
  }
  return out;
}

Status Consumer::Seek(const std::vector<TopicPartition>& positions) {
  if (positions.empty()) return Status::Ok();
  auto list = ToList(positions);
  Status s = internal::ToStatus(rd_kafka_seek_partitions(impl_->rk.get(), list.get(), 10000), "seek");
  if (!s.ok()) return s;
  // A partition whose fetching stopped (a fetch out of range with auto.offset.reset=error) refuses
  // a seek with __STATE: it is assigned again at the position instead.
  std::vector<TopicPartition> stopped;
  for (int i = 0; i < list->cnt; ++i) {
    auto& e = list->elems[i];
    if (e.err != RD_KAFKA_RESP_ERR__STATE) continue;
    stopped.push_back({e.topic, e.partition, positions[static_cast<size_t>(i)].offset});
    e.err = RD_KAFKA_RESP_ERR_NO_ERROR;
  }
  if (!stopped.empty()) {
    if (Status r = impl_->Restart(stopped); !r.ok()) return r;
  }
  return internal::ListStatus(list.get(), "seek");
}

Status Consumer::Impl::Restart(const std::vector<TopicPartition>& parts) {
  if (std::strcmp(rd_kafka_rebalance_protocol(rk.get()), "COOPERATIVE") != 0) {
    return Error(Errc::kUnavailable,
                 fmt::format("seek {}[{}]: its fetching stopped, and restarting it needs the "
                             "cooperative-sticky assignor (partition.assignment.strategy)",
                             parts[0].topic, parts[0].partition));
  }
  // Outside a rebalance callback, as rd_kafka_incremental_assign allows: the partitions are
  // removed (their fetchers stop) and added again at the new offsets; librdkafka starts the
  // added ones once the removed ones stopped. They stay in `assigned`.
  auto list = ToList(parts);
  if (Status s = internal::ToStatus(rd_kafka_incremental_unassign(rk.get(), list.get()),
                                    "restart (unassign)");
      !s.ok()) {
    return s;
  }
  Status s = internal::ToStatus(rd_kafka_incremental_assign(rk.get(), list.get()), "restart (assign)");
  log->info("restarted fetching of {} partition(s) at {}[{}] offset {}...", parts.size(),
            parts[0].topic, parts[0].partition, parts[0].offset);
  return s;
}

Status Consumer::Pause(const std::vector<TopicPartition>& parts) {
  if (parts.empty()) return Status::Ok();
  auto list = ToList(parts);
  if (auto e = rd_kafka_pause_partitions(impl_->rk.get(), list.get()); e) return ToError(e, "pause");
  return internal::ListStatus(list.get(), "pause");
}

Status Consumer::Resume(const std::vector<TopicPartition>& parts) {
  if (parts.empty()) return Status::Ok();
  auto list = ToList(parts);
  if (auto e = rd_kafka_resume_partitions(impl_->rk.get(), list.get()); e) {
    return ToError(e, "resume");
  }
  return internal::ListStatus(list.get(), "resume");
}

Status Consumer::CommitAsync(const std::vector<TopicPartition>& next_offsets) {
  if (next_offsets.empty()) return Status::Ok();
  auto list = ToList(next_offsets);
  if (auto e = rd_kafka_commit(impl_->rk.get(), list.get(), 1); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "commit");
  }
  return Status::Ok();
}

Result<std::vector<TopicPartition>> Consumer::Committed(const std::vector<TopicPartition>& parts,
                                                        std::chrono::milliseconds timeout) {
  auto list = ToList(parts);
  if (auto e = rd_kafka_committed(impl_->rk.get(), list.get(), static_cast<int>(timeout.count()));
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "committed offsets");
  }
  if (Status s = internal::ListStatus(list.get(), "committed offsets"); !s.ok()) return s.error();
  return FromList(list.get());
}

std::vector<TopicPartition> Consumer::Assignment() const {
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (rd_kafka_assignment(impl_->rk.get(), &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  internal::PartitionListPtr owned(list);
  auto out = FromList(list);
  for (auto& tp : out) tp.offset = kOffsetInvalid;
  return out;
}

bool Consumer::HasReceivedAssignment() const { return impl_->received_assignment.load(); }

Result<std::pair<int64_t, int64_t>> Consumer::Watermarks(const std::string& topic,
                                                         int32_t partition) {
  return internal::CachedWatermarks(impl_->rk.get(), topic, partition);
}

Result<std::pair<int64_t, int64_t>> Consumer::QueryWatermarks(const std::string& topic,
                                                              int32_t partition,
                                                              std::chrono::milliseconds timeout) {
  return internal::QueryWatermarks(impl_->rk.get(), topic, partition, timeout);
}

Result<std::string> Consumer::ClusterId(std::chrono::milliseconds timeout) {
  char* id = rd_kafka_clusterid(impl_->rk.get(), static_cast<int>(timeout.count()));
  if (id == nullptr) return Error(Errc::kUnavailable, "kafka cluster id: not known (yet)");
  std::string out(id);
  rd_kafka_mem_free(impl_->rk.get(), id);
  return out;
}

Status Consumer::FatalError() const { return internal::FatalStatus(impl_->rk.get(), "consumer"); }

void Consumer::Close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  if (auto e = rd_kafka_consumer_close(impl_->rk.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    impl_->log->warn("consumer close: {}", rd_kafka_err2str(e));
  }
}

}  // namespace walrus::kafka
