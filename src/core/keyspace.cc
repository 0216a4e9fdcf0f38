#include "core/keyspace.h"

#include "core/strings.h"

namespace walrus {

std::string ReservedKeyMessage(std::string_view key) {
  return "key " + QuoteForMessage(key) + " is reserved: keys beginning with '" +
         std::string(kReservedPrefix) +
         "' are walrus's own state (positions, source coordinates, epoch, hlc, crdt sidecars) "
         "and no op may write them";
}

Status CheckOpKeys(const Op& op) {
  // The one key position of every allowed command (see the header).
  if (IsReservedKey(op.key)) return Error(Errc::kRefused, ReservedKeyMessage(op.key));
  return Status::Ok();
}

}  // namespace walrus
