#pragma once

// What the mirror does to one record: the `walrus-src` header it appends
// (`<source-alias>/<topic>/<partition>/<offset>`, the format the applier parses to skip
// redeliveries) and the loop guard (a record that already passed through the target cluster,
// by its walrus-src alias or walrus-origin header, is never copied back there).
//
//   if (LoopsBack(msg.headers(), "dr")) skip;
//   rec.headers.push_back({kSrcHeader, SrcHeaderValue("dc", "redis-writes", 3, 1234)});
//
// Pure functions; any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/types.h"

namespace walrus::mirror {

std::string SrcHeaderValue(std::string_view alias, std::string_view topic, int32_t partition,
                           int64_t offset);

// True when a `walrus-src` header's alias (text before the first '/') or a `walrus-origin`
// header equals `target_alias`.
bool LoopsBack(const std::vector<kafka::Header>& headers, std::string_view target_alias);

// Key of a flow's position record in the target's offsets topic: "<source-alias>/<topic>/<p>".
std::string PositionKey(std::string_view source_alias, std::string_view topic, int32_t partition);

}  // namespace walrus::mirror
