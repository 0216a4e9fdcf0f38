#include "apply/source_auth.h"

#include <fmt/format.h>

#include "core/log.h"
#include "core/strings.h"
#include "protocol/headers.h"

namespace walrus::apply {
namespace {

constexpr std::string_view kSrc = protocol::kSrcHeader;
constexpr std::string_view kMac = kSrcMacHeader;

}  // namespace

SourceAuth::SourceAuth(SrcKeyRing keys, std::vector<std::string> trusted_aliases)
    : keys_(std::move(keys)), trusted_(std::move(trusted_aliases)) {
  for (const auto& a : trusted_) trusted_list_ += (trusted_list_.empty() ? "" : ",") + a;
  macs_.reserve(keys_.keys().size());
  for (const auto& k : keys_.keys()) macs_.emplace_back(k);
}

Error SourceAuth::Refuse(std::string_view src, std::string why) const {
  return Error(Errc::kRefused,
               fmt::format("walrus-src {} refused: {}", QuoteForMessage(src, 120), why));
}

bool SourceAuth::Trusted(std::string_view alias) const {
  for (const auto& t : trusted_) {
    if (t == alias) return true;
  }
  return false;
}

Result<SourceCoords> SourceAuth::Authenticate(const kafka::Message& msg) {
  hdrs_.clear();
  std::string_view name;
  std::optional<std::string_view> value;
  for (size_t i = 0; msg.header_at(i, name, value); ++i) hdrs_.push_back({name, value});
  auto r = Authenticate(RecordView{.topic = msg.topic(),
                                 .partition = msg.partition(),
                                 .timestamp_ms = msg.timestamp_ms(),
                                 .key = msg.key(),
                                 .value = msg.value(),
                                 .headers = &hdrs_});
  if (!r && r.error().Is(Errc::kRefused)) {
    WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 5000, "{}[{}]@{}: {}", msg.topic(),
                        msg.partition(), msg.offset(), r.error().message);
  }
  return r;
}

Result<SourceCoords> SourceAuth::Authenticate(const RecordView& rec) {
  const std::vector<HeaderView>& h = *rec.headers;
  pairs_.clear();
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i].name == kSrc) pairs_.push_back(i);
  }
  if (pairs_.empty()) return Error(Errc::kInternal, "no walrus-src header");
  const std::string_view last_src = h[pairs_.back()].value.value_or("");
  if (keys_.empty()) {
    return Refuse(last_src,
                  "this applier has no source key (--src-key-file or WALRUS_SRC_KEY), so no "
                  "source coordinates can be authenticated");
  }
  // Parse every pair first: a later pair names where the earlier one was written.
  std::optional<SourceCoords> next;
  for (size_t j = pairs_.size(); j-- > 0;) {
    const size_t at = pairs_[j];
    const std::string_view src = h[at].value.value_or("");
    auto coords = ParseSourceCoords(src);
    if (!coords) {
      return Error(Errc::kDecode,
                   fmt::format("malformed walrus-src header {}", QuoteForMessage(src, 120)));
    }
    if (!Trusted(coords->alias)) {
      return Refuse(src, fmt::format("source alias '{}' is not trusted (--trusted-source {})",
                                     coords->alias, trusted_list_));
    }
    if (at + 1 >= h.size() || h[at + 1].name != kMac) {
      return Refuse(src, "no walrus-src-mac header follows it (not written by a walrus mirror "
                         "holding the source key)");
    }
    if (j + 1 == pairs_.size() && at + 2 < h.size()) {
      return Refuse(src, fmt::format("header {} after walrus-src-mac is not covered by the MAC",
                                     QuoteForMessage(h[at + 2].name, 60)));
    }
    const std::string_view mac_text = h[at + 1].value.value_or("");
    auto mac = ParseSrcMacValue(mac_text);
    if (!mac) {
      return Refuse(src, fmt::format("malformed walrus-src-mac {} (want v1:<key id>:<64 hex>)",
                                     QuoteForMessage(mac_text, 90)));
    }
    size_t k = 0;
    for (; k < keys_.keys().size(); ++k) {
      if (keys_.keys()[k].id == mac->key_id) break;
    }
    if (k == keys_.keys().size()) {
      return Refuse(src, fmt::format("walrus-src-mac is signed with key id {}, not one of this "
                                     "applier's keys ({}): add the mirror's key to the key file",
                                     mac->key_id, keys_.Ids()));
    }
    SrcMac& m = macs_[k];
    m.Begin({.target_topic = next ? next->topic : rec.topic,
             .target_partition = next ? next->partition : rec.partition,
             .src = src,
             .timestamp_ms = rec.timestamp_ms,
             .key = rec.key,
             .value = rec.value,
             .header_count = at});
    for (size_t i = 0; i < at; ++i) m.Header(h[i].name, h[i].value);
    if (!m.Matches(*mac)) {
      return Refuse(src, "walrus-src-mac does not match the record (forged, or coordinates, key, "
                         "value, headers, timestamp, topic or partition differ from what the "
                         "mirror wrote)");
    }
    next = *coords;
  }
  return *ParseSourceCoords(last_src);  // the caller dedups by the last pair
}

}  // namespace walrus::apply
