// libFuzzer target for the strict HTTP/1.1 request parser.
//
// Each input is parsed as a request head (up to its first blank line, as http::Server hands it
// over) and the rest fed to a ChunkedDecoder in two pieces. Checks: a parsed head never has both
// framings, a length over the limit never passes, the decoder never returns more body than its
// limit nor consumes more than it was given. Violations abort.
// Run: build-fuzz/src/http/request_parser_fuzz

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/request_parser.h"

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "request_parser_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace walrus::http;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const ParseLimits lim{.max_headers = 16, .max_body_bytes = 256, .max_target_bytes = 128};
  const size_t end = in.find("\r\n\r\n");
  std::string_view rest = in;
  if (end != std::string_view::npos) {
    HeadResult h = ParseHead(in.substr(0, end + 4), lim);
    if (h.status == 0) {
      if (h.head.framing == Framing::kLength && h.head.content_length > lim.max_body_bytes) {
        Die("a Content-Length over the limit passed");
      }
      if (h.head.headers.count("content-length") && h.head.headers.count("transfer-encoding")) {
        Die("both Content-Length and Transfer-Encoding passed");
      }
    } else if (h.status < 400 || h.status > 505) {
      Die("refusal status out of range");
    }
    rest = in.substr(end + 4);
  }
  ChunkedDecoder d(lim.max_body_bytes);
  std::string body;
  const size_t half = rest.size() / 2;
  size_t used = 0;
  auto st = d.Feed(rest.substr(0, half), &used, body);
  if (used > half) Die("decoder consumed more than given");
  if (st == ChunkedDecoder::State::kNeedMore) {
    std::string next(rest.substr(used));
    size_t used2 = 0;
    d.Feed(next, &used2, body);
    if (used2 > next.size()) Die("decoder consumed more than given");
  }
  if (body.size() > lim.max_body_bytes) Die("chunked body over the limit");
  return 0;
}
