// EncodeJson: Write/Op -> canonical compact JSON v1 (declared in json_codec.h).

#include <simdjson.h>

#include <charconv>

#include "core/base64.h"
#include "core/json_codec.h"

namespace walrus {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void AppendEscapedByte(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    default:
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
  }
}

bool IsUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

void AppendInt(int64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out.append(buf, end);
}

void AppendOpFields(const Op& op, std::string& out) {
  out += "\"cmd\":";
  AppendJsonString(op.cmd, out);
  if (IsUtf8(op.key)) {
    out += ",\"key\":";
    AppendJsonString(op.key, out);
  } else {
    out += ",\"key_b64\":\"";
    Base64EncodeTo(op.key, out);
    out.push_back('"');
  }
  if (!op.args.empty()) {
    bool utf8 = true;
    for (const std::string& a : op.args) {
      if (!IsUtf8(a)) {
        utf8 = false;
        break;
      }
    }
    out += utf8 ? ",\"args\":[" : ",\"args_b64\":[";
    for (size_t i = 0; i < op.args.size(); ++i) {
      if (i) out.push_back(',');
      if (utf8) {
        AppendJsonString(op.args[i], out);
      } else {
        out.push_back('"');
        Base64EncodeTo(op.args[i], out);
        out.push_back('"');
      }
    }
    out.push_back(']');
  }
  if (op.ttl_ms) {
    out += ",\"ttl_ms\":";
    AppendInt(*op.ttl_ms, out);
  }
  if (op.expire_at_ms) {
    out += ",\"expire_at_ms\":";
    AppendInt(*op.expire_at_ms, out);
  }
}

size_t EstimateSize(const Op& op) {
  size_t n = 48 + op.cmd.size() + op.key.size() * 4 / 3;
  for (const std::string& a : op.args) n += a.size() * 4 / 3 + 4;
  return n;
}

void AppendStamp(const Write& w, std::string& out) {
  if (!w.origin.empty()) {
    out += ",\"origin\":";
    AppendJsonString(w.origin, out);
  }
  if (!w.hlc.empty()) {
    out += ",\"hlc\":";
    AppendJsonString(w.hlc, out);
  }
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  out.push_back('"');
  const bool utf8 = IsUtf8(s);
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (NeedsEscape(c) || (!utf8 && c >= 0x80)) {
      out.append(s.data() + run, i - run);
      AppendEscapedByte(c, out);
      run = i + 1;
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

std::string EncodeJson(const Op& op) {
  std::string out;
  out.reserve(EstimateSize(op));
  out.push_back('{');
  AppendOpFields(op, out);
  out.push_back('}');
  return out;
}

std::string EncodeJson(const Write& w) {
  std::string out;
  size_t estimate = 32 + w.origin.size() + w.hlc.size();
  for (const Op& op : w.ops) estimate += EstimateSize(op);
  out.reserve(estimate);
  out.push_back('{');
  if (!w.multi && w.ops.size() == 1) {
    AppendOpFields(w.ops[0], out);
  } else {
    out += "\"multi\":[";
    for (size_t i = 0; i < w.ops.size(); ++i) {
      if (i) out.push_back(',');
      out.push_back('{');
      AppendOpFields(w.ops[i], out);
      out.push_back('}');
    }
    out.push_back(']');
  }
  AppendStamp(w, out);
  out.push_back('}');
  return out;
}

}  // namespace walrus
