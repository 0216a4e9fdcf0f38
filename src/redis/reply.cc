#include "redis/reply.h"

#include <array>

namespace walrus::redis {
namespace {

constexpr std::array<std::string_view, 9> kUnavailablePrefixes = {
    "LOADING",  "READONLY",    "OOM",        "MASTERDOWN", "BUSY",
    "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "MISCONF"};
constexpr std::array<std::string_view, 3> kAuthPrefixes = {"NOAUTH", "WRONGPASS", "NOPERM"};

// Longest rendering of one string in DebugString.
constexpr size_t kDebugStringMax = 80;

void AppendDebug(ReplyView v, std::string* out, int depth) {
  switch (v.type()) {
    case ReplyType::kNil:
      out->append("(nil)");
      return;
    case ReplyType::kInteger:
      out->append("(integer) " + std::to_string(v.integer()));
      return;
    case ReplyType::kError:
      out->append("(error) ");
      [[fallthrough]];
    case ReplyType::kStatus:
    case ReplyType::kString: {
      std::string_view s = v.str();
      const bool quote = v.type() == ReplyType::kString;
      if (quote) out->push_back('"');
      out->append(s.substr(0, kDebugStringMax));
      if (s.size() > kDebugStringMax) out->append("...");
      if (quote) out->push_back('"');
      return;
    }
    case ReplyType::kArray: {
      if (depth > 4) {
        out->append("[...]");
        return;
      }
      out->push_back('[');
      const size_t n = v.size();
      for (size_t i = 0; i < n && i < 16; ++i) {
        if (i > 0) out->append(", ");
        AppendDebug(v.element(i), out, depth + 1);
      }
      if (n > 16) out->append(", ... (" + std::to_string(n) + " elements)");
      out->push_back(']');
      return;
    }
  }
}

}  // namespace

std::string_view ReplyTypeName(ReplyType t) {
  switch (t) {
    case ReplyType::kString:
      return "string";
    case ReplyType::kStatus:
      return "status";
    case ReplyType::kInteger:
      return "integer";
    case ReplyType::kNil:
      return "nil";
    case ReplyType::kArray:
      return "array";
    case ReplyType::kError:
      return "error";
  }
  return "unknown";
}

Errc ErrcForErrorPrefix(std::string_view prefix) {
  for (std::string_view p : kUnavailablePrefixes) {
    if (prefix == p) return Errc::kUnavailable;
  }
  for (std::string_view p : kAuthPrefixes) {
    if (prefix == p) return Errc::kAuth;
  }
  return Errc::kRejected;
}

std::string_view ReplyView::ErrorPrefix() const {
  if (!IsError()) return {};
  std::string_view s = str();
  return s.substr(0, s.find(' '));
}

Error ReplyView::ToError() const {
  if (!IsError()) {
    return Error(Errc::kInternal,
                 "expected an error reply, got " + std::string(ReplyTypeName(type())));
  }
  return Error(ErrcForErrorPrefix(ErrorPrefix()), std::string(str()));
}

std::string ReplyView::DebugString() const {
  std::string out;
  AppendDebug(*this, &out, 0);
  return out;
}

namespace detail {

void ReplyArena::Clear() {
  // Capacity is kept for the next batch unless one huge batch inflated it.
  constexpr size_t kKeepBytes = 64u << 20;
  constexpr size_t kKeepNodes = 1u << 20;
  nodes.clear();
  children.clear();
  bytes.clear();
  if (bytes.capacity() > kKeepBytes) std::string().swap(bytes);
  if (nodes.capacity() > kKeepNodes) std::vector<Node>().swap(nodes);
  if (children.capacity() > kKeepNodes) std::vector<uint32_t>().swap(children);
}

}  // namespace detail

}  // namespace walrus::redis
