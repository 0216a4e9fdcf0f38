#include "kafka/admin.h"

#include <fmt/format.h>

#include <algorithm>

#include "kafka/handles.h"

namespace walrus::kafka {

using internal::ToError;

namespace {

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};

int Ms(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

}  // namespace

Status CreateTopics(const Properties& props, const std::vector<std::pair<std::string, int>>& topics,
                    std::chrono::milliseconds timeout) {
  if (topics.empty()) return Status::Ok();
  auto conf = internal::MakeConf({}, props);
  if (!conf) return conf.error();
  auto rk = internal::NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk) return rk.error();

  char errstr[512];
  std::vector<std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>> owned;
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const auto& [name, partitions] : topics) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(name.c_str(), partitions, -1, errstr, sizeof errstr);
    if (nt == nullptr) {
      return Error(Errc::kInvalidArgument, fmt::format("new topic {}: {}", name, errstr));
    }
    owned.emplace_back(nt);
    raw.push_back(nt);
  }
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(rk->get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), Ms(timeout), errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), Ms(timeout), errstr, sizeof errstr);

  internal::QueuePtr queue(rd_kafka_queue_new(rk->get()));
  rd_kafka_CreateTopics(rk->get(), raw.data(), raw.size(), options.get(), queue.get());
  // The request timeout bounds the answer; the slack covers connection set-up.
  internal::EventPtr ev(rd_kafka_queue_poll(queue.get(), Ms(timeout) + 1000));
  if (!ev) {
    return Error(Errc::kTimeout, fmt::format("create topics: no answer within {} ms (mock "
                                             "clusters do not support the Admin API)",
                                             timeout.count()));
  }
  if (auto e = rd_kafka_event_error(ev.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "create topics", rd_kafka_event_error_string(ev.get()));
  }
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev.get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    const auto e = rd_kafka_topic_result_error(results[i]);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    return ToError(e, fmt::format("create topic {}", rd_kafka_topic_result_name(results[i])),
                   detail != nullptr ? detail : "");
  }
  return Status::Ok();
}

Result<std::vector<TopicInfo>> ListTopics(const Properties& props,
                                          std::chrono::milliseconds timeout) {
  auto conf = internal::MakeConf({}, props);
  if (!conf) return conf.error();
  auto rk = internal::NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk) return rk.error();
  const rd_kafka_metadata_t* md = nullptr;
  if (auto e = rd_kafka_metadata(rk->get(), 1, nullptr, &md, Ms(timeout));
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "list topics");
  }
  internal::MetadataPtr owned(md);
  std::vector<TopicInfo> out;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    out.push_back(TopicInfo{t.topic, static_cast<int32_t>(t.partition_cnt)});
  }
  std::sort(out.begin(), out.end(),
            [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::string> ClusterId(const Properties& props, std::chrono::milliseconds timeout) {
  auto conf = internal::MakeConf({}, props);
  if (!conf) return conf.error();
  auto rk = internal::NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk) return rk.error();
  char* id = rd_kafka_clusterid(rk->get(), Ms(timeout));
  if (id == nullptr) return Error(Errc::kUnavailable, "kafka cluster id: not known");
  std::string out(id);
  rd_kafka_mem_free(rk->get(), id);
  return out;
}

Result<std::vector<TopicPartition>> CommittedOffsets(const Properties& props,
                                                     const std::vector<TopicPartition>& parts,
                                                     std::chrono::milliseconds timeout) {
  if (!internal::HasProperty(props, "group.id")) {
    return Error(Errc::kInvalidArgument, "committed offsets: group.id is required");
  }
  auto conf = internal::MakeConf({{"enable.auto.commit", "false"}}, props);
  if (!conf) return conf.error();
  auto rk = internal::NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) return rk.error();
  auto list = internal::ToList(parts);
  if (auto e = rd_kafka_committed(rk->get(), list.get(), Ms(timeout));
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "committed offsets");
  }
  if (Status s = internal::ListStatus(list.get(), "committed offsets"); !s.ok()) return s.error();
  return internal::FromList(list.get());
}

}  // namespace walrus::kafka
