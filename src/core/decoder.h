#pragma once

// OpDecoder: turns one Kafka record (key, value) into a Write. JSON v1 (json_codec.h) is the
// first implementation; Avro with Confluent framing will be the second.
//
// A decoder instance is used by one consumer thread (implementations may reuse parse buffers).
//
//   walrus::JsonDecoder dec;                          // json_codec.h
//   walrus::OpDecoder& d = dec;
//   walrus::Result<walrus::Write> w = d.Decode("orders:42", R"({"cmd":"SET","key":"orders:42",
//                                                             "args":["paid"]})");
//   if (!w) dead_letter(w.error().message);          // Errc::kDecode or Errc::kRefused

#include <optional>
#include <string_view>

#include "core/op.h"
#include "core/result.h"

namespace walrus {

// Limits that protect the applier from hostile or broken producers.
struct DecoderLimits {
  size_t max_value_bytes = 1 << 20;  // larger record values are refused
  size_t max_multi_ops = 1000;       // ops in one `multi`
  size_t max_args = 100000;          // args of one op
};

class OpDecoder {
 public:
  virtual ~OpDecoder() = default;
  // record_key/value: nullopt when the Kafka record has a null key/value. A null value (tombstone)
  // decodes to DEL of the record key (error if the key is null too).
  // Errors: Errc::kDecode for malformed input, Errc::kRefused for well-formed input that policy
  // refuses. Messages are short and specific; they go into a dead-letter header.
  virtual Result<Write> Decode(std::optional<std::string_view> record_key,
                               std::optional<std::string_view> value) = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace walrus
