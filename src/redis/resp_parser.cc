#include "redis/resp_parser.h"

#include <hiredis/hiredis.h>

#include <cstdint>
#include <new>

namespace walrus::redis {
namespace {

using Node = detail::ReplyArena::Node;

// hiredis frees its read buffer whenever it empties and is larger than maxbuf (16 KiB by
// default); we feed 64 KiB at a time, so keep up to 1 MiB to avoid a malloc per read.
constexpr size_t kReaderMaxBuf = 1u << 20;

// Objects handed to hiredis are node indices + 1 (never null: null means out of memory).
void* Encode(uint32_t index) { return reinterpret_cast<void*>(uintptr_t{index} + 1); }
uint32_t Decode(const void* obj) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(obj) - 1);
}

RespParser* Parser(const redisReadTask* task) { return static_cast<RespParser*>(task->privdata); }

ReplyType StringType(int hiredis_type) {
  switch (hiredis_type) {
    case REDIS_REPLY_STATUS:
      return ReplyType::kStatus;
    case REDIS_REPLY_ERROR:
      return ReplyType::kError;
    default:
      return ReplyType::kString;
  }
}

void* CreateString(const redisReadTask* task, char* str, size_t len) {
  return Parser(task)->Add(task, Node{StringType(task->type), len, 0}, str);
}
void* CreateArray(const redisReadTask* task, int elements) {
  return Parser(task)->Add(task, Node{ReplyType::kArray, static_cast<uint64_t>(elements), 0});
}
void* CreateInteger(const redisReadTask* task, long long value) {
  return Parser(task)->Add(task, Node{ReplyType::kInteger, 0, static_cast<int64_t>(value)});
}
void* CreateNil(const redisReadTask* task) {
  return Parser(task)->Add(task, Node{ReplyType::kNil, 0, 0});
}
void FreeObject(void*) {}  // the arena owns everything

redisReplyObjectFunctions kArenaFunctions = {CreateString, CreateArray, CreateInteger, CreateNil,
                                             FreeObject};

Error ProtocolError(const redisReader* r) {
  return Error(Errc::kIo, std::string("redis protocol error: ") + r->errstr);
}

}  // namespace

RespParser::RespParser() : reader_(nullptr), arena_(std::make_shared<detail::ReplyArena>()) {
  reader_ = redisReaderCreateWithFunctions(&kArenaFunctions);
  if (reader_ == nullptr) throw std::bad_alloc();
  reader_->maxbuf = kReaderMaxBuf;
  reader_->privdata = this;
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
  return std::optional<Reply>(std::in_place, arena_, Decode(raw));
}

void RespParser::Recycle() {
  if (reader_->ridx != -1) return;  // a reply is half-parsed into the current arena
  if (arena_.use_count() == 1) {
    arena_->Clear();
  } else {
    arena_ = std::make_shared<detail::ReplyArena>();
  }
}

void* RespParser::Add(const redisReadTask* task, Node node, const char* bytes) {
  detail::ReplyArena& a = *arena_;
  const auto index = static_cast<uint32_t>(a.nodes.size());
  if (bytes != nullptr) {
    node.value = static_cast<int64_t>(a.bytes.size());
    a.bytes.append(bytes, node.len);
  } else if (node.type == ReplyType::kArray) {
    node.value = static_cast<int64_t>(a.children.size());
    a.children.resize(a.children.size() + node.len);
  }
  a.nodes.push_back(node);
  if (task->parent != nullptr) {
    const Node& parent = a.nodes[Decode(task->parent->obj)];
    a.children[static_cast<size_t>(parent.value) + static_cast<size_t>(task->idx)] = index;
  }
  return Encode(index);
}

}  // namespace walrus::redis
