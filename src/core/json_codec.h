#pragma once

// JSON op format v1 (docs/op-format.md): decoder and canonical encoder.
//
// JsonDecoder reuses one simdjson parser and its buffers across calls: it is not thread-safe,
// use one per consumer thread. EncodeJson is a pure function (any thread).
//
//   walrus::JsonDecoder dec;  // default DecoderLimits
//   auto w = dec.Decode("user:1", R"({"cmd":"hset","key":"user:1","args":["name","alice"]})");
//   // w->ops[0].cmd == "HSET", w->ops[0].args == {"name", "alice"}
//   std::string json = walrus::EncodeJson(*w);
//   // {"cmd":"HSET","key":"user:1","args":["name","alice"]}

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/decoder.h"
#include "core/op.h"
#include "core/result.h"

namespace walrus {

class JsonDecoder final : public OpDecoder {
 public:
  explicit JsonDecoder(DecoderLimits limits = {});
  ~JsonDecoder() override;
  JsonDecoder(const JsonDecoder&) = delete;
  JsonDecoder& operator=(const JsonDecoder&) = delete;

  Result<Write> Decode(std::optional<std::string_view> record_key,
                       std::optional<std::string_view> value) override;
  std::string_view name() const override { return "json"; }

 private:
  struct Impl;  // the simdjson parser; kept out of this header
  DecoderLimits limits_;
  std::unique_ptr<Impl> impl_;
};

// Canonical compact JSON: fields in the order cmd, key|key_b64, args|args_b64, ttl_ms,
// expire_at_ms (then origin, hlc at the top level); empty args and empty origin/hlc omitted.
// key_b64 / args_b64 are used when the key / any arg is not valid UTF-8, so every Write the
// decoder produces round-trips. A Write with multi=false must hold exactly one op (otherwise it
// is written as a multi). cmd, origin and hlc are expected to be valid UTF-8.
std::string EncodeJson(const Write& write);
std::string EncodeJson(const Op& op);

// Appends `s` as a JSON string literal (quotes included). Invalid UTF-8 bytes are written as
// \u00XX escapes, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string& out);

}  // namespace walrus
