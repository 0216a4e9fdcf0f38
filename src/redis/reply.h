#pragma once

// Reply: one parsed Redis reply, and ReplyView, a non-owning view of a reply or of an element
// nested in one.
//
//   auto r = conn->Command({"GET", "k"});
//   if (!r) return r.error();                    // I/O error: the connection is broken
//   if (r->IsError()) return r->ToError();       // -WRONGTYPE ... -> Errc::kRejected
//   if (r->type() == ReplyType::kNil) ...;
//   std::string_view v = r->str();
//
//   ReplyView exec = replies.back();             // EXEC's array, one element per queued command
//   for (size_t i = 0; i < exec.size(); ++i)
//     if (exec.element(i).IsError()) dlq(exec.element(i).ToError());
//
// Storage: hiredis' reader parses the wire; instead of one malloc'd redisReply per value, the
// values go into a ReplyArena (flat nodes + one byte buffer) shared by all replies parsed
// together, so a 5000-command batch costs no per-reply allocation. A Reply keeps its arena
// alive (shared_ptr); the parser reuses an arena once no Reply refers to it.
//
// A Reply is move-only and may be handed to another thread (the arena is immutable once the
// Reply exists); a ReplyView or a str() must not outlive the Reply it came from.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace walrus::redis {

enum class ReplyType { kString, kStatus, kInteger, kNil, kArray, kError };

std::string_view ReplyTypeName(ReplyType t);

// Errc for a Redis error reply, by its prefix (the first word): retryable conditions of the
// server (LOADING, READONLY, OOM, MASTERDOWN, BUSY, TRYAGAIN, CLUSTERDOWN, NOREPLICAS, MISCONF)
// -> kUnavailable; NOAUTH, WRONGPASS, NOPERM -> kAuth; anything else -> kRejected.
Errc ErrcForErrorPrefix(std::string_view prefix);

namespace detail {

// Flat storage of parsed replies. Filled by RespParser; read-only once a Reply points into it.
struct ReplyArena {
  struct Node {
    ReplyType type;
    uint64_t len;   // string/status/error: byte length; array: element count
    int64_t value;  // integer: the value; string/status/error: offset in bytes;
                    // array: offset in children
  };
  std::vector<Node> nodes;
  std::vector<uint32_t> children;  // node indices of array elements, per array contiguous
  std::string bytes;

  void Clear();
};

}  // namespace detail

class ReplyView {
 public:
  ReplyView(const detail::ReplyArena* arena, uint32_t node) : a_(arena), n_(&arena->nodes[node]) {}

  ReplyType type() const { return n_->type; }
  // Bytes of a string, status or error reply; empty for other types.
  std::string_view str() const {
    return HasBytes() ? std::string_view(a_->bytes.data() + n_->value, n_->len)
                      : std::string_view();
  }
  // Value of an integer reply; 0 for other types.
  int64_t integer() const { return n_->type == ReplyType::kInteger ? n_->value : 0; }
  // Number of elements of an array reply; 0 for other types (and for a nil array).
  size_t size() const { return n_->type == ReplyType::kArray ? n_->len : 0; }
  // Element i of an array reply. Precondition: i < size().
  ReplyView element(size_t i) const {
    assert(i < size());
    return ReplyView(a_, a_->children[static_cast<size_t>(n_->value) + i]);
  }

  bool IsError() const { return type() == ReplyType::kError; }
  bool IsNil() const { return type() == ReplyType::kNil; }
  // True for a status reply with exactly this text (e.g. "OK", "QUEUED").
  bool IsStatus(std::string_view s) const { return type() == ReplyType::kStatus && str() == s; }

  // First word of an error reply ("WRONGTYPE", "LOADING", "ERR", ...); empty if not an error.
  std::string_view ErrorPrefix() const;
  // The error as an Error (see ErrcForErrorPrefix); message = the full error text.
  // For a non-error reply: Errc::kInternal naming the type (callers check IsError() first).
  Error ToError() const;

  // Short human-readable rendering for logs and test failures, e.g. `[OK, (error) WRONGTYPE ..]`.
  std::string DebugString() const;

 private:
  bool HasBytes() const {
    return n_->type == ReplyType::kString || n_->type == ReplyType::kStatus ||
           n_->type == ReplyType::kError;
  }

  const detail::ReplyArena* a_;
  const detail::ReplyArena::Node* n_;
};

class Reply {
 public:
  using Type = ReplyType;

  // Node `node` of `arena` (made by RespParser).
  Reply(std::shared_ptr<const detail::ReplyArena> arena, uint32_t node)
      : arena_(std::move(arena)), node_(node) {}
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  ReplyView view() const { return ReplyView(arena_.get(), node_); }
  operator ReplyView() const { return view(); }  // NOLINT(google-explicit-constructor)

  ReplyType type() const { return view().type(); }
  std::string_view str() const { return view().str(); }
  int64_t integer() const { return view().integer(); }
  size_t size() const { return view().size(); }
  ReplyView element(size_t i) const { return view().element(i); }
  bool IsError() const { return view().IsError(); }
  bool IsNil() const { return view().IsNil(); }
  bool IsStatus(std::string_view s) const { return view().IsStatus(s); }
  std::string_view ErrorPrefix() const { return view().ErrorPrefix(); }
  Error ToError() const { return view().ToError(); }
  std::string DebugString() const { return view().DebugString(); }

 private:
  std::shared_ptr<const detail::ReplyArena> arena_;
  uint32_t node_;
};

}  // namespace walrus::redis
