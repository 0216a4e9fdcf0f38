#include "redis/resp_writer.h"

#include <charconv>

namespace walrus::redis {
namespace {

// A buffer that grew past this (one huge batch) is released on Clear() rather than kept.
constexpr size_t kKeepCapacity = 64u << 20;

}  // namespace

void RespWriter::Header(char kind, size_t n) {
  char tmp[24];
  tmp[0] = kind;
  auto [end, ec] = std::to_chars(tmp + 1, tmp + sizeof(tmp) - 2, n);
  (void)ec;  // 20 digits always fit
  end[0] = '\r';
  end[1] = '\n';
  buf_.append(tmp, static_cast<size_t>(end + 2 - tmp));
}

void RespWriter::Bulk(int64_t v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof(tmp), v);
  (void)ec;
  Bulk(std::string_view(tmp, static_cast<size_t>(end - tmp)));
}

void RespWriter::Clear() {
  if (buf_.capacity() > kKeepCapacity) {
    std::string().swap(buf_);
  } else {
    buf_.clear();
  }
}

}  // namespace walrus::redis
