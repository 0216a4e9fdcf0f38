#pragma once

// What the mirror does to one record: the `walrus-src` header it appends
// (`<source-alias>/<topic>/<partition>/<offset>`, the format the applier parses to skip
// redeliveries) and the loop guard (a record that already passed through the target cluster,
// by its walrus-src alias or walrus-origin header, is never copied back there).
//
//   if (LoopsBack(view.header("walrus-src"), view.header("walrus-origin"), "dr")) skip;
//   route.provenance = SrcHeaderPrefix("dc", "redis-writes", 3);  // + offset, per record
//
// Pure functions; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace walrus::mirror {

// "<alias>/<topic>/<partition>/": the walrus-src value of a record without its offset.
std::string SrcHeaderPrefix(std::string_view alias, std::string_view topic, int32_t partition);
std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset);

// True when the record's `walrus-src` alias (text before the first '/') or its `walrus-origin`
// equals `target_alias` (each nullopt when the record has no such header).
bool LoopsBack(std::optional<std::string_view> src, std::optional<std::string_view> origin,
               std::string_view target_alias);

// Key of a flow's position record in the target's offsets topic: "<source-alias>/<topic>/<p>".
std::string PositionKey(std::string_view source_alias, std::string_view topic, int32_t partition);

}  // namespace walrus::mirror
