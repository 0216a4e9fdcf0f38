#pragma once

// Reply: one parsed Redis reply (RAII over hiredis' redisReply*), and ReplyView, a non-owning
// view of a reply or of an element nested in one.
//
//   auto r = conn->Command({"GET", "k"});
//   if (!r) return r.error();                    // I/O error: the connection is broken
//   if (r->IsError()) return r->ToError();       // -WRONGTYPE ... -> Errc::kRejected
//   if (r->type() == ReplyType::kNil) ...;
//   std::string_view v = r->str();
//
//   auto exec = replies.back();                  // EXEC's array, one element per queued command
//   for (size_t i = 0; i < exec.size(); ++i)
//     if (exec.element(i).IsError()) dlq(exec.element(i).ToError());
//
// A Reply is move-only and may be handed to another thread; a ReplyView must not outlive the
// Reply it points into.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

struct redisReply;  // hiredis; not exposed beyond src/redis/

namespace walrus::redis {

enum class ReplyType { kString, kStatus, kInteger, kNil, kArray, kError };

std::string_view ReplyTypeName(ReplyType t);

// Errc for a Redis error reply, by its prefix (the first word): retryable conditions of the
// server (LOADING, READONLY, OOM, MASTERDOWN, BUSY, TRYAGAIN, CLUSTERDOWN, NOREPLICAS, MISCONF)
// -> kUnavailable; NOAUTH, WRONGPASS, NOPERM -> kAuth; anything else -> kRejected.
Errc ErrcForErrorPrefix(std::string_view prefix);

class ReplyView {
 public:
  explicit ReplyView(const redisReply* r) : r_(r) {}

  ReplyType type() const;
  // Bytes of a string, status or error reply; empty for other types.
  std::string_view str() const;
  // Value of an integer reply; 0 for other types.
  int64_t integer() const;
  // Number of elements of an array reply; 0 for other types (and for a nil array).
  size_t size() const;
  // Element i of an array reply. Precondition: i < size().
  ReplyView element(size_t i) const;

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
  const redisReply* r_;
};

class Reply {
 public:
  using Type = ReplyType;

  // Takes ownership of a reply produced by hiredis' reader.
  explicit Reply(redisReply* r) : r_(r) {}
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  ReplyView view() const { return ReplyView(r_.get()); }
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
  struct Free {
    void operator()(redisReply* r) const;
  };
  std::unique_ptr<redisReply, Free> r_;
};

}  // namespace walrus::redis
