#include "kafka/message.h"

#include <fmt/format.h>

#include <string>

#include "kafka/handles.h"

namespace walrus::kafka {

Message::~Message() {
  if (rkm_ != nullptr) rd_kafka_message_destroy(rkm_);
}

Message& Message::operator=(Message&& o) noexcept {
  if (this != &o) {
    if (rkm_ != nullptr) rd_kafka_message_destroy(rkm_);
    rkm_ = o.rkm_;
    o.rkm_ = nullptr;
  }
  return *this;
}

std::string_view Message::topic() const {
  return rkm_->rkt != nullptr ? std::string_view(rd_kafka_topic_name(rkm_->rkt))
                              : std::string_view();
}

int32_t Message::partition() const { return rkm_->partition; }

int64_t Message::offset() const { return rkm_->offset; }

std::optional<std::string_view> Message::key() const {
  if (rkm_->key == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(rkm_->key), rkm_->key_len);
}

std::optional<std::string_view> Message::value() const {
  if (rkm_->payload == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(rkm_->payload), rkm_->len);
}

int64_t Message::timestamp_ms() const {
  rd_kafka_timestamp_type_t type;
  const int64_t ts = rd_kafka_message_timestamp(rkm_, &type);
  return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts;
}

std::vector<Header> Message::headers() const {
  std::vector<Header> out;
  rd_kafka_headers_t* hdrs = nullptr;  // owned by the message
  if (rd_kafka_message_headers(rkm_, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name;
  const void* val;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    Header h{name, std::nullopt};
    if (val != nullptr) h.value.emplace(static_cast<const char*>(val), size);
    out.push_back(std::move(h));
  }
  return out;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(rkm_, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const std::string cname(name);
  const void* val = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(hdrs, cname.c_str(), &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  if (val == nullptr) return std::string_view();
  return std::string_view(static_cast<const char*>(val), size);
}

bool Message::position_out_of_range() const {
  return rkm_->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET;
}

bool Message::header_at(size_t i, std::string_view& name,
                        std::optional<std::string_view>& value) const {
  rd_kafka_headers_t* hdrs = nullptr;  // owned by the message
  if (rd_kafka_message_headers(rkm_, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  const char* n = nullptr;
  const void* v = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_all(hdrs, i, &n, &v, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  name = n;
  value = v == nullptr ? std::nullopt
                       : std::optional<std::string_view>(std::in_place, static_cast<const char*>(v), size);
  return true;
}

Status Message::error() const {
  if (rkm_->err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  std::string context = "consume";
  if (rkm_->rkt != nullptr) {
    context = fmt::format("consume {}[{}]", rd_kafka_topic_name(rkm_->rkt), rkm_->partition);
  }
  return internal::ToError(rkm_->err, context, rd_kafka_message_errstr(rkm_));
}

}  // namespace walrus::kafka
