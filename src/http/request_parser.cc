#include "http/request_parser.h"

#include <algorithm>
#include <vector>

namespace walrus::http {
namespace {

constexpr size_t kMaxChunkLine = 1024;
constexpr size_t kMaxTrailerBytes = 8192;

bool IsTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// field-value bytes: VCHAR, obs-text, SP, HTAB.
bool IsValueChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Comma-separated list elements, trimmed, empty ones dropped.
std::vector<std::string> ListElements(std::string_view v) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= v.size()) {
    size_t comma = v.find(',', at);
    if (comma == std::string_view::npos) comma = v.size();
    auto e = Trim(v.substr(at, comma - at));
    if (!e.empty()) out.push_back(Lower(e));
    at = comma + 1;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

HeadResult Refuse(int status, std::string why) {
  HeadResult r;
  r.status = status;
  r.error = std::move(why);
  return r;
}

bool ParseQuery(std::string_view q, std::map<std::string, std::string>& out) {
  size_t at = 0;
  while (at < q.size()) {
    size_t amp = q.find('&', at);
    if (amp == std::string_view::npos) amp = q.size();
    auto pair = q.substr(at, amp - at);
    at = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string k, v;
    if (!PercentDecode(pair.substr(0, eq), true, k)) return false;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, v)) return false;
    out.emplace(std::move(k), std::move(v));
  }
  return true;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return false;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out += c;
  }
  return true;
}

HeadResult ParseHead(std::string_view head, const ParseLimits& limits) {
  // Every line ends in CRLF; a bare CR or LF anywhere is refused (parsers that differ on them
  // are how requests get smuggled).
  if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n") {
    return Refuse(400, "request head does not end with an empty line");
  }
  std::vector<std::string_view> lines;
  size_t at = 0;
  while (at < head.size() - 2) {
    const size_t crlf = head.find("\r\n", at);
    auto line = head.substr(at, crlf - at);
    for (char c : line) {
      if (c == '\r' || c == '\n') return Refuse(400, "bare CR or LF in the request head");
    }
    lines.push_back(line);
    at = crlf + 2;
  }
  if (lines.empty()) return Refuse(400, "empty request");

  HeadResult r;
  RequestHead& h = r.head;
  // request-line = method SP request-target SP HTTP-version
  const std::string_view rl = lines[0];
  const size_t sp1 = rl.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : rl.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      rl.find(' ', sp2 + 1) != std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1) {
    return Refuse(400, "malformed request line");
  }
  const auto method = rl.substr(0, sp1);
  auto target = rl.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = rl.substr(sp2 + 1);
  for (unsigned char c : method) {
    if (!IsTchar(c)) return Refuse(400, "malformed method");
  }
  for (unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f) return Refuse(400, "invalid byte in the request target");
  }
  if (target.size() > limits.max_target_bytes) return Refuse(414, "request URI too long");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return Refuse(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return Refuse(505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 are)");
  }
  h.method = std::string(method);
  h.minor_version = version[7] - '0';
  // absolute-form (a client talking to us as a proxy): keep only the path and query.
  if (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://") {
    const size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.empty() || target[0] != '/') {
    return Refuse(400, "request target must be an absolute path");
  }
  const size_t q = target.find('?');
  if (!PercentDecode(target.substr(0, q), false, h.path)) {
    return Refuse(400, "bad percent-encoding in the path");
  }
  if (q != std::string_view::npos && !ParseQuery(target.substr(q + 1), h.params)) {
    return Refuse(400, "bad percent-encoding in the query");
  }

  if (lines.size() - 1 > limits.max_headers) {
    return Refuse(431, "more than " + std::to_string(limits.max_headers) + " header fields");
  }
  int content_lengths = 0, hosts = 0;
  std::string te;  // every Transfer-Encoding, joined
  bool has_te = false;
  std::string connection;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') {
      return Refuse(400, "obsolete line folding in the request head");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Refuse(400, "malformed header field");
    const auto raw_name = line.substr(0, colon);
    for (unsigned char c : raw_name) {
      if (!IsTchar(c)) return Refuse(400, "invalid character in a header name");
    }
    const auto value = Trim(line.substr(colon + 1));
    for (unsigned char c : value) {
      if (!IsValueChar(c)) return Refuse(400, "invalid character in header " + std::string(raw_name));
    }
    std::string name = Lower(raw_name);
    if (name == "content-length") {
      if (++content_lengths > 1) return Refuse(400, "more than one Content-Length");
      if (value.empty() || value.size() > 18) return Refuse(400, "invalid Content-Length");
      uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return Refuse(400, "invalid Content-Length");
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      h.content_length = n;
    } else if (name == "transfer-encoding") {
      has_te = true;
      te += (te.empty() ? "" : ",") + std::string(value);
    } else if (name == "host") {
      if (++hosts > 1) return Refuse(400, "more than one Host");
    } else if (name == "connection") {
      connection += (connection.empty() ? "" : ",") + std::string(value);
    }
    h.headers.emplace(std::move(name), std::string(value));
  }
  if (h.minor_version == 1 && hosts == 0) return Refuse(400, "HTTP/1.1 request without Host");
  if (has_te) {
    if (h.minor_version == 0) return Refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (content_lengths > 0) return Refuse(400, "both Content-Length and Transfer-Encoding");
    const auto codings = ListElements(te);
    if (codings.size() != 1 || codings[0] != "chunked") {
      return Refuse(400, "Transfer-Encoding other than chunked: '" + te + "'");
    }
    h.framing = Framing::kChunked;
  } else if (content_lengths > 0) {
    if (h.content_length > limits.max_body_bytes) {
      return Refuse(413, "request body larger than " + std::to_string(limits.max_body_bytes) +
                             " bytes");
    }
    h.framing = h.content_length > 0 ? Framing::kLength : Framing::kNone;
  }
  h.keep_alive = h.minor_version == 1;
  for (const auto& t : ListElements(connection)) {
    if (t == "close") h.keep_alive = false;
    if (t == "keep-alive" && h.minor_version == 0) h.keep_alive = true;
  }
  if (const auto it = h.headers.find("expect"); it != h.headers.end()) {
    if (Lower(it->second) != "100-continue") return Refuse(417, "unsupported Expect");
    h.expect_continue = h.minor_version == 1 && h.framing != Framing::kNone;
  }
  return r;
}

ChunkedDecoder::State ChunkedDecoder::Fail(int status, std::string why) {
  status_ = status;
  error_ = std::move(why);
  return State::kError;
}

ChunkedDecoder::State ChunkedDecoder::Feed(std::string_view in, size_t* consumed,
                                           std::string& body) {
  size_t at = 0;
  auto done = [&](State s) {
    *consumed = at;
    return s;
  };
  while (true) {
    if (status_ != 0) return done(State::kError);
    switch (phase_) {
      case Phase::kDone:
        return done(State::kDone);
      case Phase::kSize: {
        const size_t crlf = in.find("\r\n", at);
        if (crlf == std::string_view::npos) {
          if (in.size() - at > kMaxChunkLine) return done(Fail(400, "chunk-size line too long"));
          return done(State::kNeedMore);
        }
        const auto line = in.substr(at, crlf - at);
        uint64_t size = 0;
        size_t i = 0;
        for (; i < line.size() && HexValue(line[i]) >= 0; ++i) {
          if (i >= 15) return done(Fail(413, "chunk size too large"));
          size = size * 16 + static_cast<uint64_t>(HexValue(line[i]));
        }
        if (i == 0) return done(Fail(400, "malformed chunk size"));
        for (; i < line.size(); ++i) {  // chunk-ext: ignored, but its bytes must be sane
          const unsigned char c = static_cast<unsigned char>(line[i]);
          if (c != '\t' && (c < 0x20 || c == 0x7f)) return done(Fail(400, "bad chunk extension"));
        }
        if (line.size() > kMaxChunkLine) return done(Fail(400, "chunk-size line too long"));
        at = crlf + 2;
        if (size == 0) {
          phase_ = Phase::kTrailer;
        } else {
          if (body.size() + size > max_body_) {
            return done(Fail(413, "request body larger than " + std::to_string(max_body_) +
                                      " bytes"));
          }
          remaining_ = size;
          phase_ = Phase::kData;
        }
        break;
      }
      case Phase::kData: {
        const size_t n = std::min<uint64_t>(remaining_, in.size() - at);
        body.append(in.data() + at, n);
        at += n;
        remaining_ -= n;
        if (remaining_ > 0) return done(State::kNeedMore);
        phase_ = Phase::kDataEnd;
        break;
      }
      case Phase::kDataEnd:
        if (in.size() - at < 2) return done(State::kNeedMore);
        if (in.substr(at, 2) != "\r\n") return done(Fail(400, "chunk data not followed by CRLF"));
        at += 2;
        phase_ = Phase::kSize;
        break;
      case Phase::kTrailer: {
        const size_t crlf = in.find("\r\n", at);
        if (crlf == std::string_view::npos) {
          if (trailer_bytes_ + (in.size() - at) > kMaxTrailerBytes) {
            return done(Fail(431, "trailer section too large"));
          }
          return done(State::kNeedMore);
        }
        const auto line = in.substr(at, crlf - at);
        trailer_bytes_ += line.size() + 2;
        if (trailer_bytes_ > kMaxTrailerBytes) return done(Fail(431, "trailer section too large"));
        for (unsigned char c : line) {
          if (c != '\t' && (c < 0x20 || c == 0x7f)) return done(Fail(400, "bad byte in trailer"));
        }
        at = crlf + 2;
        if (line.empty()) phase_ = Phase::kDone;
        break;
      }
    }
  }
}

}  // namespace walrus::http
