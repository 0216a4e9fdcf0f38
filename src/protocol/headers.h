#pragma once

// Kafka record header names walrus writes and reads: one definition. A wire contract between
// the mirror (writes walrus-src / walrus-src-mac), the producers (walrus-origin), the applier
// (reads them; writes the dead-letter headers) and its outbox drain (reads those back).
// headers_test.cc pins each string.
//
//   rec.headers.push_back({protocol::kDlqReasonHeader, reason});
//   if (auto src = msg.header(protocol::kSrcHeader)) ...
//
// Names are const char* (librdkafka and kafka::Header take them as they are). Pure; any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace walrus::protocol {

// Provenance of a mirrored record: "<source-alias>/<topic>/<partition>/<offset>" (SrcHeaderValue).
inline constexpr const char* kSrcHeader = "walrus-src";
// HMAC over the coordinates and the record (core/src_mac.h), beside walrus-src.
inline constexpr const char* kSrcMacHeader = "walrus-src-mac";
// The cluster alias a record was first produced in (loop guard of active-active mirrors).
inline constexpr const char* kOriginHeader = "walrus-origin";

// Dead letters (docs/dead-letters.md): the coordinates of the refused record...
inline constexpr const char* kSrcTopicHeader = "walrus-src-topic";
inline constexpr const char* kSrcPartitionHeader = "walrus-src-partition";
inline constexpr const char* kSrcOffsetHeader = "walrus-src-offset";
inline constexpr const char* kSrcTimestampHeader = "walrus-src-timestamp";
// ... and why, by whom, how.
inline constexpr const char* kDlqReasonHeader = "walrus-dlq-reason";
inline constexpr const char* kDlqCategoryHeader = "walrus-dlq-category";
inline constexpr const char* kDlqGroupHeader = "walrus-dlq-group";
inline constexpr const char* kDlqRecoveredHeader = "walrus-dlq-recovered";
inline constexpr const char* kDlqBodyMissingHeader = "walrus-dlq-body-missing";
inline constexpr const char* kDlqValueOmittedHeader = "walrus-dlq-value-omitted";

// "<alias>/<topic>/<partition>/": the walrus-src value of a record without its offset.
std::string SrcHeaderPrefix(std::string_view alias, std::string_view topic, int32_t partition);
// "<alias>/<topic>/<partition>/<offset>"; the applier parses it (apply/source_coords.h).
std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset);

}  // namespace walrus::protocol
