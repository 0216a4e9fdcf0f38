#pragma once

// Message: one consumed Kafka record (or a consumer error event), owning librdkafka's
// rd_kafka_message_t. Move-only; the string_views returned by the accessors point into the
// message and stay valid as long as the Message lives. Not thread-safe; a Message may be moved
// to another thread.
//
//   for (kafka::Message& m : consumer->PollBatch(10000, 100ms)) {
//     if (!m.error().ok()) { log->warn("{}", m.error().error().message); continue; }
//     Apply(m.topic(), m.partition(), m.offset(), m.key(), m.value(), m.header("walrus-origin"));
//   }

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "kafka/types.h"

struct rd_kafka_message_s;

namespace walrus::kafka {

class Message {
 public:
  // Takes ownership of `rkm` (destroyed with rd_kafka_message_destroy).
  explicit Message(rd_kafka_message_s* rkm) : rkm_(rkm) {}
  ~Message();
  Message(Message&& o) noexcept : rkm_(o.rkm_) { o.rkm_ = nullptr; }
  Message& operator=(Message&& o) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  std::string_view topic() const;  // empty for a client-level error event
  int32_t partition() const;
  int64_t offset() const;
  std::optional<std::string_view> key() const;    // nullopt: null key
  std::optional<std::string_view> value() const;  // nullopt: null value (tombstone)
  // Create time (or log-append time, per the topic's config); -1 if the record has none.
  int64_t timestamp_ms() const;
  std::vector<Header> headers() const;
  // Value of the last header called `name`; nullopt when absent. A header present with a null
  // value yields an empty view.
  std::optional<std::string_view> header(std::string_view name) const;
  // The i-th header (in record order) without copying; false past the last one. Views stay
  // valid as long as the Message lives.
  bool header_at(size_t i, std::string_view& name, std::optional<std::string_view>& value) const;
  // ok() for a record; the error for an error event (then topic/partition may be unset).
  Status error() const;
  // True for the error event librdkafka delivers, with auto.offset.reset=error, when the fetch
  // position of this topic/partition is not in the log any more (offset(): that position);
  // fetching of the partition stops until it is sought again.
  bool position_out_of_range() const;

 private:
  rd_kafka_message_s* rkm_;
};

}  // namespace walrus::kafka
