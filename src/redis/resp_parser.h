#pragma once

// RespParser: incremental RESP2 reply parser. hiredis' redisReader parses the wire; its
// object callbacks store the values in a ReplyArena instead of malloc'ing a redisReply each.
// Bytes go in as they arrive from the socket; complete replies come out in order.
//
//   RespParser p;
//   p.Recycle();                               // before a batch: reuse the arena if unused
//   p.Feed(buf, n);
//   while (true) {
//     auto next = p.Next();
//     if (!next) return next.error();          // protocol error: the stream is unusable
//     if (!*next) break;                       // need more bytes
//     use(std::move(**next));
//   }
//
// Owned by one Connection (single thread); not thread-safe. Replies it returned may live on
// (and be used on other threads) after the parser is gone.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/result.h"
#include "redis/reply.h"

struct redisReader;
struct redisReadTask;

namespace walrus::redis {

class RespParser {
 public:
  RespParser();
  ~RespParser();
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  // Appends bytes received from the server. Errc::kIo if hiredis runs out of memory.
  Status Feed(const char* data, size_t n);
  // The next complete reply, std::nullopt if more bytes are needed, Errc::kIo if the stream
  // is not valid RESP (after which the parser stays in error).
  Result<std::optional<Reply>> Next();
  // Between replies: empties the arena for reuse if no Reply refers to it any more, else
  // starts a new one. Call it before each batch to keep memory flat.
  void Recycle();

  // Stores one value hiredis parsed (with its bytes, for strings) and links it into its
  // parent array. Public only for the C callbacks in the .cc file.
  void* Add(const redisReadTask* task, detail::ReplyArena::Node node, const char* bytes = nullptr);

 private:
  redisReader* reader_;
  std::shared_ptr<detail::ReplyArena> arena_;
};

}  // namespace walrus::redis
