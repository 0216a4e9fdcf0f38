#include "client/write_check.h"

#include <fmt/format.h>

#include "core/command_table.h"
#include "core/hlc.h"
#include "core/keyspace.h"
#include "core/routing.h"
#include "core/strings.h"

namespace walrus::client {

void NormalizeCommands(Write& w) {
  for (Op& op : w.ops) {
    if (const CommandSpec* spec = FindCommand(op.cmd)) op.cmd = spec->name;
  }
}

Status CheckShape(const Write& w) {
  if (w.ops.empty()) return Error(Errc::kInvalidArgument, "write has no op");
  if (!w.multi && w.ops.size() != 1) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("write has {} ops but is not a multi", w.ops.size()));
  }
  // Walrus's own keys first (Encode refuses them too): the refusal then never depends on Kafka
  // (no partition lookup, no clock tick for an op that cannot be sent).
  for (size_t i = 0; i < w.ops.size(); ++i) {
    if (auto st = CheckOpKeys(w.ops[i]); !st) {
      return Error(Errc::kInvalidArgument,
                   (w.multi ? fmt::format("multi[{}]: ", i) : std::string()) + st.error().message);
    }
  }
  if (w.multi) {
    const std::string_view routing = RoutingKey(w);
    for (size_t i = 1; i < w.ops.size(); ++i) {
      if (HashTagOrKey(w.ops[i].key) != routing) {
        return Error(Errc::kInvalidArgument,
                     fmt::format("multi[{}]: key {} does not share the routing key {} of "
                                 "multi[0]: give all keys of a multi one hash tag, e.g. {{tag}}",
                                 i, QuoteForMessage(w.ops[i].key), QuoteForMessage(routing)));
      }
    }
  }
  if (!w.origin.empty() && !ValidOrigin(w.origin)) {
    return Error(Errc::kInvalidArgument, "origin must be 1-32 characters of [A-Za-z0-9_.-], got " +
                                             QuoteForMessage(w.origin, 40));
  }
  if (!w.hlc.empty()) {
    if (auto h = ParseHlc(w.hlc); !h) return Error(Errc::kInvalidArgument, h.error().message);
  }
  return {};
}

Result<std::string> WriteCheck::Encode(const Write& w) {
  std::string json = EncodeJson(w);
  auto decoded = decoder_.Decode(RecordKey(w), json);
  if (!decoded) return Error(Errc::kInvalidArgument, decoded.error().message);
  return json;
}

}  // namespace walrus::client
