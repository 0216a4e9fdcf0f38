#pragma once

// WriteCheck: validates a Write the way the applier will, before it is produced, and encodes it.
//
// The rules are the applier's own: the Write is encoded with EncodeJson and decoded again with
// the applier's JsonDecoder (allow-list, arity, option syntax, key rules, expiry values, multi
// limits, value size), plus what only a producer can check: a non-multi Write holds exactly one
// op, the ops of a multi share one routing key (so the record's partition is every key's
// partition), and an origin / hlc present in the Write are well-formed.
//
//   walrus::client::WriteCheck check;
//   walrus::client::NormalizeCommands(write);            // "incrby" -> "INCRBY"
//   if (auto st = walrus::client::CheckShape(write); !st) return st;
//   walrus::Result<std::string> json = check.Encode(write);   // what the applier will decode
//
// Threading: NormalizeCommands / CheckShape are pure (any thread). A WriteCheck holds a
// JsonDecoder and its buffers: one thread at a time (OpProducer guards it with its send lock).

#include <string>

#include "core/json_codec.h"
#include "core/op.h"
#include "core/result.h"

namespace walrus::client {

// Upper-cases each op's command to its canonical allow-list name when it has one (unknown
// commands are left as they are; Encode refuses them).
void NormalizeCommands(Write& w);

// Structure only (no decoding): op count vs. multi, no key in walrus's reserved namespace
// (core/keyspace.h), one routing key across a multi, origin and hlc well-formed when present.
// Errc::kInvalidArgument naming the problem.
Status CheckShape(const Write& w);

class WriteCheck {
 public:
  // The canonical JSON value of `w` once the applier's decoder accepts it (record key
  // RecordKey(w)); Errc::kInvalidArgument with the decoder's reason otherwise.
  Result<std::string> Encode(const Write& w);

 private:
  JsonDecoder decoder_;
};

}  // namespace walrus::client
