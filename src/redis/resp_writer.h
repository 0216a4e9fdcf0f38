#pragma once

// RespWriter: encodes commands as RESP arrays of bulk strings into one growing buffer.
// Binary safe (lengths are explicit). The buffer is reused across batches, so steady-state
// encoding allocates nothing.
//
//   RespWriter w;
//   w.Command({"SET", "k", "v"});          // *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n
//   w.Array(3); w.Bulk("SET"); w.Bulk(key); w.Bulk(value);   // the same, piece by piece
//   send(fd, w.data(), w.size()); w.Clear();
//
// Owned by one Connection (single thread); not thread-safe.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace walrus::redis {

class RespWriter {
 public:
  // Starts an array header ("*n\r\n"); the caller then writes n bulk strings.
  void Array(size_t n) { Header('*', n); }
  // One bulk string ("$len\r\n<bytes>\r\n").
  void Bulk(std::string_view s) {
    Header('$', s.size());
    buf_.append(s.data(), s.size());
    buf_.append("\r\n", 2);
  }
  void Bulk(int64_t v);

  void Command(std::span<const std::string_view> argv) {
    Array(argv.size());
    for (std::string_view a : argv) Bulk(a);
  }
  void Command(std::initializer_list<std::string_view> argv) {
    Command(std::span<const std::string_view>(argv.begin(), argv.size()));
  }
  void Command(const std::vector<std::string>& argv) {
    Array(argv.size());
    for (const std::string& a : argv) Bulk(a);
  }

  const char* data() const { return buf_.data(); }
  size_t size() const { return buf_.size(); }
  bool empty() const { return buf_.empty(); }
  std::string_view view() const { return buf_; }
  // Empties the buffer, keeping its capacity (unless it grew huge).
  void Clear();

 private:
  void Header(char kind, size_t n);

  std::string buf_;
};

}  // namespace walrus::redis
