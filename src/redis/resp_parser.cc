#include "redis/resp_parser.h"

#include <hiredis/hiredis.h>

#include <new>

namespace walrus::redis {
namespace {

// hiredis frees its read buffer whenever it empties and is larger than maxbuf (16 KiB by
// default); we feed 64 KiB at a time, so keep up to 1 MiB to avoid a malloc per read.
constexpr size_t kReaderMaxBuf = 1u << 20;

Error ProtocolError(const redisReader* r) {
  return Error(Errc::kIo, std::string("redis protocol error: ") + r->errstr);
}

}  // namespace

RespParser::RespParser() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
  reader_->maxbuf = kReaderMaxBuf;
}

RespParser::~RespParser() { redisReaderFree(reader_); }

Status RespParser::Feed(const char* data, size_t n) {
  if (redisReaderFeed(reader_, data, n) != REDIS_OK) return ProtocolError(reader_);
  return Status::Ok();
}

Result<std::optional<Reply>> RespParser::Next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK) return ProtocolError(reader_);
  if (raw == nullptr) return std::optional<Reply>();
  return std::optional<Reply>(Reply(static_cast<redisReply*>(raw)));
}

}  // namespace walrus::redis
