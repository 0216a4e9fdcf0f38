#pragma once

// Kafka record header names walrus writes and reads: one definition. A wire contract between
// the mirror (writes walrus-src / walrus-src-mac), the producers (walrus-origin), the applier
// (reads them; writes the dead-letter headers) and its outbox drain (reads those back).
// headers_test.cc pins each string.
//
//   rec.headers.push_back({std::string(protocol::kDlqReasonHeader), reason});
//   if (auto src = msg.header(protocol::kSrcHeader)) ...
//
// Constants only; any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace walrus::protocol {

// Provenance of a mirrored record: "<source-alias>/<topic>/<partition>/<offset>" (SrcHeaderValue).
inline constexpr std::string_view kSrcHeader = "walrus-src";
// HMAC over the coordinates and the record (core/src_mac.h), beside walrus-src.
inline constexpr std::string_view kSrcMacHeader = "walrus-src-mac";
// The cluster alias a record was first produced in (loop guard of active-active mirrors).
inline constexpr std::string_view kOriginHeader = "walrus-origin";

// Dead letters (docs/dead-letters.md): the coordinates of the refused record...
inline constexpr std::string_view kSrcTopicHeader = "walrus-src-topic";
inline constexpr std::string_view kSrcPartitionHeader = "walrus-src-partition";
inline constexpr std::string_view kSrcOffsetHeader = "walrus-src-offset";
inline constexpr std::string_view kSrcTimestampHeader = "walrus-src-timestamp";
// ... and why, by whom, how.
inline constexpr std::string_view kDlqReasonHeader = "walrus-dlq-reason";
inline constexpr std::string_view kDlqCategoryHeader = "walrus-dlq-category";
inline constexpr std::string_view kDlqGroupHeader = "walrus-dlq-group";
inline constexpr std::string_view kDlqRecoveredHeader = "walrus-dlq-recovered";
inline constexpr std::string_view kDlqBodyMissingHeader = "walrus-dlq-body-missing";
inline constexpr std::string_view kDlqValueOmittedHeader = "walrus-dlq-value-omitted";

// "<alias>/<topic>/<partition>/": the walrus-src value of a record without its offset.
std::string SrcHeaderPrefix(std::string_view alias, std::string_view topic, int32_t partition);
// "<alias>/<topic>/<partition>/<offset>"; the applier parses it (apply/source_coords.h).
std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset);

}  // namespace walrus::protocol
