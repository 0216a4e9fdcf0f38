#pragma once

// Internal to src/kafka/: RAII owners of librdkafka C handles, configuration building with
// walrus defaults, librdkafka error -> walrus Error mapping, and partition-list conversions.
// Nothing outside src/kafka/ includes this header (it exposes rdkafka.h).

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "kafka/types.h"

namespace walrus::kafka::internal {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

// Maps a librdkafka error code onto walrus's Errc; `context` prefixes the message,
// e.g. "produce to t[3]: Local: Message timed out (_MSG_TIMED_OUT)".
Error ToError(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail = {});
Errc ToErrc(rd_kafka_resp_err_t err);
// Consumes (destroys) an rd_kafka_error_t; nullptr means success.
Status ToStatus(rd_kafka_error_t* err, std::string_view context);

// Builds a configuration: `defaults` first, then the user's `props` (which win), with log_cb and
// error_cb routed into walrus::Logger("kafka"). Fails with kInvalidArgument naming the property.
Result<ConfPtr> MakeConf(const Properties& defaults, const Properties& props);

// True when `props` sets `key` (exact name).
bool HasProperty(const Properties& props, std::string_view key);

// Creates a client handle from `conf` (ownership of conf passes to librdkafka on success).
Result<KafkaPtr> NewClient(rd_kafka_type_t type, ConfPtr conf);

PartitionListPtr ToList(const std::vector<TopicPartition>& parts);
std::vector<TopicPartition> FromList(const rd_kafka_topic_partition_list_t* list);
// First per-partition error in `list`, if any, as a Status.
Status ListStatus(const rd_kafka_topic_partition_list_t* list, std::string_view context);


// Waits up to `timeout` for the first message of `queue`, then takes what is already queued
// without waiting, up to `max` in all; partition-EOF events are destroyed, not returned. `buf` is
// the caller's reusable scratch array. The caller owns (destroys) the returned messages.
std::vector<rd_kafka_message_t*> ConsumeQueued(rd_kafka_queue_t* queue,
                                               std::vector<rd_kafka_message_t*>& buf, size_t max,
                                               std::chrono::milliseconds timeout);

// (low, high) watermarks of a partition as last fetched by this client (no request);
// kNotFound while nothing was fetched yet.
Result<std::pair<int64_t, int64_t>> CachedWatermarks(rd_kafka_t* rk, const std::string& topic,
                                                     int32_t partition);
// (low, high) watermarks asked of the partition's leader (a request, up to `timeout`).
Result<std::pair<int64_t, int64_t>> QueryWatermarks(rd_kafka_t* rk, const std::string& topic,
                                                    int32_t partition,
                                                    std::chrono::milliseconds timeout);
// The client's fatal error, if it has raised one, as "<what> fatal error: <reason>".
Status FatalStatus(rd_kafka_t* rk, std::string_view what);

}  // namespace walrus::kafka::internal
