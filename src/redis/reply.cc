#include "redis/reply.h"

#include <hiredis/hiredis.h>

#include <array>
#include <cassert>

namespace walrus::redis {
namespace {

constexpr std::array<std::string_view, 9> kUnavailablePrefixes = {
    "LOADING", "READONLY", "OOM", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN",
    "NOREPLICAS", "MISCONF"};
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
    case ReplyType::kString: return "string";
    case ReplyType::kStatus: return "status";
    case ReplyType::kInteger: return "integer";
    case ReplyType::kNil: return "nil";
    case ReplyType::kArray: return "array";
    case ReplyType::kError: return "error";
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

ReplyType ReplyView::type() const {
  switch (r_->type) {
    case REDIS_REPLY_STRING: return ReplyType::kString;
    case REDIS_REPLY_STATUS: return ReplyType::kStatus;
    case REDIS_REPLY_INTEGER: return ReplyType::kInteger;
    case REDIS_REPLY_ARRAY: return ReplyType::kArray;
    case REDIS_REPLY_ERROR: return ReplyType::kError;
    default: return ReplyType::kNil;
  }
}

std::string_view ReplyView::str() const {
  switch (r_->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string_view(r_->str, r_->len);
    default:
      return {};
  }
}

int64_t ReplyView::integer() const {
  return r_->type == REDIS_REPLY_INTEGER ? static_cast<int64_t>(r_->integer) : 0;
}

size_t ReplyView::size() const { return r_->type == REDIS_REPLY_ARRAY ? r_->elements : 0; }

ReplyView ReplyView::element(size_t i) const {
  assert(i < size());
  return ReplyView(r_->element[i]);
}

std::string_view ReplyView::ErrorPrefix() const {
  if (r_->type != REDIS_REPLY_ERROR) return {};
  std::string_view s = str();
  return s.substr(0, s.find(' '));
}

Error ReplyView::ToError() const {
  if (r_->type != REDIS_REPLY_ERROR) {
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

void Reply::Free::operator()(redisReply* r) const { freeReplyObject(r); }

}  // namespace walrus::redis
