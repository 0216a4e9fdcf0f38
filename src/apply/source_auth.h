#pragma once

// SourceAuth: decides whether the applier may trust a record's source coordinates (walrus-src,
// apply/source_coords.h). Trusted only when the record carries them as a mirror writes them
// (core/src_mac.h): every walrus-src header immediately followed by a walrus-src-mac header
// whose MAC, made with one of our keys, covers the coordinates, the record's topic, partition,
// timestamp, key, value and every header before it; the last pair last in the record; and every
// walrus-src naming a source alias this applier trusts (--trusted-source). Anything else is
// refused (Errc::kRefused, a reason naming what failed; the applier dead-letters the record with
// category `refused` and never lets it touch a stored source offset). A walrus-src that does not
// parse is Errc::kDecode, as before.
//
// Without keys (no --src-key-file / WALRUS_SRC_KEY), every walrus-src is refused: an
// unauthenticated coordinate is never trusted.
//
//   SourceAuth auth(std::move(ring), {"dc"});
//   if (auto src = msg.header("walrus-src")) {
//     Result<SourceCoords> c = auth.Authenticate(msg);   // c->stream, c->offset of the last pair
//     if (!c) dlq.Send(msg, c.error().Is(Errc::kRefused) ? "refused" : "decode", c.error().message);
//   }
//
// Threading: applier thread only (scratch state and HMAC contexts are reused, no allocation per
// record once warm). Ownership: owns its keys and contexts; the returned coordinates view the
// record's headers.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apply/source_coords.h"
#include "core/result.h"
#include "core/src_key_ring.h"
#include "core/src_mac.h"
#include "kafka/message.h"

namespace walrus::apply {

// What SourceAuth needs of a record (a kafka::Message, or a test's literal).
struct HeaderView {
  std::string_view name;
  std::optional<std::string_view> value;
};
struct RecordView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t timestamp_ms = -1;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  const std::vector<HeaderView>* headers = nullptr;
};

class SourceAuth {
 public:
  SourceAuth(SrcKeyRing keys, std::vector<std::string> trusted_aliases);

  // Coordinates of the record's last walrus-src once every walrus-src is authenticated.
  // Precondition: the record has at least one walrus-src header.
  Result<SourceCoords> Authenticate(const kafka::Message& msg);
  Result<SourceCoords> Authenticate(const RecordView& rec);

  bool has_keys() const { return !keys_.empty(); }

 private:
  Error Refuse(std::string_view src, std::string why) const;
  bool Trusted(std::string_view alias) const;

  SrcKeyRing keys_;
  std::vector<std::string> trusted_;
  std::string trusted_list_;     // "dc,eu" for messages
  std::vector<SrcMac> macs_;     // one per key, same order
  std::vector<HeaderView> hdrs_;  // scratch: the record's headers
  std::vector<size_t> pairs_;     // scratch: indexes of walrus-src headers
};

}  // namespace walrus::apply
