#pragma once

// Strict HTTP/1.1 request parsing (RFC 9112) for http::Server: the request head and chunked
// bodies. Pure functions and a small incremental decoder; no I/O.
//
//   ParseLimits lim{.max_headers = 100, .max_body_bytes = 64 * 1024};
//   HeadResult h = ParseHead("POST /api/produce HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n",
//                            lim);
//   // h.status == 0 (ok), h.head.framing == Framing::kLength, h.head.content_length == 2
//   ParseHead("...Content-Length: 2\r\nContent-Length: 3\r\n\r\n", lim).status;   // 400
//
// Refused with 400 (the ambiguities request smuggling lives on): more than one Content-Length
// (even equal ones), Content-Length together with Transfer-Encoding, a Transfer-Encoding other
// than exactly `chunked` (or any in HTTP/1.0), obs-fold (a line starting with SP/HTAB),
// whitespace before the colon, bytes outside the field grammar (CTLs, bare CR or LF, NUL),
// a bad request line, a missing or repeated Host in HTTP/1.1, bad percent-encoding.
// 431: more than max_headers fields. 413: a Content-Length over max_body_bytes. 414: a target
// over max_target_bytes. 505: an HTTP version other than 1.0/1.1. 417: an Expect other than
// 100-continue. The head's byte limit (431) is the caller's: it finds the end of the head.
// Threading: any thread; ChunkedDecoder is one object per request.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace walrus::http {

struct ParseLimits {
  size_t max_headers = 100;
  size_t max_body_bytes = 1 << 20;
  size_t max_target_bytes = 8192;
};

enum class Framing { kNone, kLength, kChunked };

struct RequestHead {
  std::string method;
  std::string path;  // percent-decoded, no query
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> headers;  // lower-case names; first wins
  int minor_version = 1;                       // HTTP/1.<minor>
  bool keep_alive = true;
  bool expect_continue = false;
  Framing framing = Framing::kNone;
  uint64_t content_length = 0;
};

struct HeadResult {
  int status = 0;       // 0: parsed; otherwise the HTTP status to refuse with
  std::string error;    // why, for the client and the log
  RequestHead head;
};

// `head` is the request head up to and including the blank line ("\r\n\r\n"), leading empty
// lines already skipped.
HeadResult ParseHead(std::string_view head, const ParseLimits& limits);

// Percent-decoding; `plus_is_space` for query strings. False on a bad escape or a decoded NUL.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out);

// Incremental decoder of a chunked body (RFC 9112 section 7.1); extensions and trailers are
// read and ignored.
class ChunkedDecoder {
 public:
  enum class State { kNeedMore, kDone, kError };
  explicit ChunkedDecoder(size_t max_body_bytes) : max_body_(max_body_bytes) {}

  // Consumes from `in` (sets *consumed), appends chunk data to `body`. kError: see status().
  State Feed(std::string_view in, size_t* consumed, std::string& body);
  int status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  State Fail(int status, std::string why);
  enum class Phase { kSize, kData, kDataEnd, kTrailer, kDone };
  const size_t max_body_;
  Phase phase_ = Phase::kSize;
  uint64_t remaining_ = 0;
  size_t trailer_bytes_ = 0;
  int status_ = 0;
  std::string error_;
};

}  // namespace walrus::http
