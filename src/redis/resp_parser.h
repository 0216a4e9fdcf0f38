#pragma once

// RespParser: incremental RESP2 reply parser (RAII over hiredis' redisReader). Bytes go in
// as they arrive from the socket; complete replies come out in order.
//
//   RespParser p;
//   p.Feed(buf, n);
//   while (true) {
//     auto next = p.Next();
//     if (!next) return next.error();          // protocol error: the stream is unusable
//     if (!*next) break;                       // need more bytes
//     use(std::move(**next));
//   }
//
// Owned by one Connection (single thread); not thread-safe.

#include <cstddef>
#include <optional>

#include "core/result.h"
#include "redis/reply.h"

struct redisReader;

namespace walrus::redis {

class RespParser {
 public:
  RespParser();
  ~RespParser();
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  // Appends bytes received from the server. Errc::kIo on a protocol error or out of memory.
  Status Feed(const char* data, size_t n);
  // The next complete reply, std::nullopt if more bytes are needed, Errc::kIo if the stream
  // is not valid RESP (after which the parser stays in error).
  Result<std::optional<Reply>> Next();

 private:
  redisReader* reader_;
};

}  // namespace walrus::redis
