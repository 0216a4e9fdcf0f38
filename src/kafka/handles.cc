#include "kafka/handles.h"

#include <fmt/format.h>

#include "core/log.h"

namespace walrus::kafka::internal {
namespace {

const std::shared_ptr<spdlog::logger>& KafkaLog() {
  static const std::shared_ptr<spdlog::logger> kLog = Logger("kafka");
  return kLog;
}

// librdkafka log lines use syslog levels: 0-2 critical, 3 error, 4 warning, 5-6 notice/info,
// 7 debug. Its level-3 lines are mostly connection failures it retries by itself, so they are
// logged as warnings. Called on librdkafka's internal threads.
void LogCallback(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  const auto& log = KafkaLog();
  const char* name = rk ? rd_kafka_name(rk) : "rdkafka";
  if (level <= 2) {
    log->error("{} {}: {}", name, fac, buf);
  } else if (level <= 4) {
    log->warn("{} {}: {}", name, fac, buf);
  } else if (level <= 6) {
    log->info("{} {}: {}", name, fac, buf);
  } else {
    log->debug("{} {}: {}", name, fac, buf);
  }
}

// Client-level errors (broker down, all brokers down, fatal). Most are transient and retried by
// librdkafka itself, so they are logged (rate-limited) rather than surfaced per call.
void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* /*opaque*/) {
  const auto& log = KafkaLog();
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512] = {0};
    const rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    log->error("{} fatal error {}: {}", rd_kafka_name(rk), rd_kafka_err2name(orig), fatal);
    return;
  }
  log->debug("{} error {}: {}", rd_kafka_name(rk), rd_kafka_err2name(code), reason);
  WALRUS_LOG_EVERY_MS(log, warn, 1000, "{} error {}: {}", rd_kafka_name(rk),
                      rd_kafka_err2name(code), reason);
}

}  // namespace

Errc ToErrc(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return Errc::kOk;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return Errc::kTimeout;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
      return Errc::kIo;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return Errc::kNotFound;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__NOT_CONFIGURED:
      return Errc::kInvalidArgument;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return Errc::kAuth;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return Errc::kRejected;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
    case RD_KAFKA_RESP_ERR__CONFLICT:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
      return Errc::kConflict;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FAIL:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE:
      return Errc::kInternal;
    default:
      // Queue full, leader elections, coordinator moves, throttling, ...: transient.
      return Errc::kUnavailable;
  }
}

Error ToError(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail) {
  std::string msg = fmt::format("{}: {} ({})", context, rd_kafka_err2str(err),
                                rd_kafka_err2name(err));
  if (!detail.empty() && detail != rd_kafka_err2str(err)) msg += fmt::format(": {}", detail);
  return Error(ToErrc(err), std::move(msg));
}

Status ToStatus(rd_kafka_error_t* err, std::string_view context) {
  if (err == nullptr) return Status::Ok();
  Error e = ToError(rd_kafka_error_code(err), context, rd_kafka_error_string(err));
  rd_kafka_error_destroy(err);
  return e;
}

bool HasProperty(const Properties& props, std::string_view key) {
  for (const auto& [k, v] : props) {
    if (k == key) return true;
  }
  return false;
}

Result<ConfPtr> MakeConf(const Properties& defaults, const Properties& props) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const Properties* list : {&defaults, &props}) {
    for (const auto& [key, value] : *list) {
      if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) !=
          RD_KAFKA_CONF_OK) {
        return Error(Errc::kInvalidArgument,
                     fmt::format("kafka property {}={}: {}", key, value, errstr));
      }
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), &LogCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &ErrorCallback);
  return conf;
}

Result<KafkaPtr> NewClient(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) {
    return Error(Errc::kInvalidArgument, fmt::format("create kafka client: {}", errstr));
  }
  conf.release();  // owned by rk now
  return KafkaPtr(rk);
}

PartitionListPtr ToList(const std::vector<TopicPartition>& parts) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
  for (const auto& tp : parts) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
        tp.offset;
  }
  return list;
}

std::vector<TopicPartition> FromList(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    out.push_back(TopicPartition{e.topic, e.partition, e.offset});
  }
  return out;
}

Status ListStatus(const rd_kafka_topic_partition_list_t* list, std::string_view context) {
  for (int i = 0; list != nullptr && i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return ToError(e.err, fmt::format("{} {}[{}]", context, e.topic, e.partition));
    }
  }
  return Status::Ok();
}

std::vector<rd_kafka_message_t*> ConsumeQueued(rd_kafka_queue_t* queue,
                                               std::vector<rd_kafka_message_t*>& buf, size_t max,
                                               std::chrono::milliseconds timeout) {
  std::vector<rd_kafka_message_t*> out;
  if (max == 0) return out;
  if (buf.size() < max) buf.resize(max);
  // Wait for the first record only, then drain what is already queued without waiting.
  ssize_t n = rd_kafka_consume_batch_queue(queue, static_cast<int>(timeout.count()), buf.data(), 1);
  if (n == 1 && max > 1) {
    const ssize_t more = rd_kafka_consume_batch_queue(queue, 0, buf.data() + 1, max - 1);
    if (more > 0) n += more;
  }
  if (n <= 0) return out;
  out.reserve(static_cast<size_t>(n));
  for (ssize_t i = 0; i < n; ++i) {
    rd_kafka_message_t* rkm = buf[static_cast<size_t>(i)];
    if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      rd_kafka_message_destroy(rkm);
      continue;
    }
    out.push_back(rkm);
  }
  return out;
}

Result<std::pair<int64_t, int64_t>> CachedWatermarks(rd_kafka_t* rk, const std::string& topic,
                                                     int32_t partition) {
  int64_t lo = kOffsetInvalid, hi = kOffsetInvalid;
  auto e = rd_kafka_get_watermark_offsets(rk, topic.c_str(), partition, &lo, &hi);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, fmt::format("watermarks {}[{}]", topic, partition));
  }
  if (hi == kOffsetInvalid) {
    return Error(Errc::kNotFound, fmt::format("watermarks {}[{}]: not fetched yet", topic, partition));
  }
  return std::make_pair(lo, hi);
}

Result<std::pair<int64_t, int64_t>> QueryWatermarks(rd_kafka_t* rk, const std::string& topic,
                                                    int32_t partition,
                                                    std::chrono::milliseconds timeout) {
  int64_t lo = kOffsetInvalid, hi = kOffsetInvalid;
  auto e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &lo, &hi,
                                            static_cast<int>(timeout.count()));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, fmt::format("query watermarks {}[{}]", topic, partition));
  }
  return std::make_pair(lo, hi);
}

Status FatalStatus(rd_kafka_t* rk, std::string_view what) {
  char errstr[512] = {0};
  const auto e = rd_kafka_fatal_error(rk, errstr, sizeof errstr);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return ToError(e, fmt::format("{} fatal error", what), errstr);
}

}  // namespace walrus::kafka::internal
