#include "dataset/reader.h"

#include <algorithm>

#include "dataset/digest.h"
#include "redis/endpoint.h"

namespace walrus::dataset {
namespace {

using redis::ReplyType;
using redis::ReplyView;

// An error reply as an Error: its code by the reply's prefix (ReplyView::ToError), the message
// naming the instance.
Error ReplyError(const redis::Connection& c, ReplyView r) {
  Error e = r.ToError();
  e.message = redis::HostPort(c.endpoint()) + ": " + e.message;
  return e;
}

// Appends the value read of kv's type; false for a type read without a value.
bool AppendRead(redis::Connection& c, const KeyValue& kv, bool dump_other_types) {
  const std::string& k = kv.key;
  if (kv.type == "string") {
    c.Append({"GET", k});
  } else if (kv.type == "hash") {
    c.Append({"HGETALL", k});
  } else if (kv.type == "set") {
    c.Append({"SMEMBERS", k});
  } else if (kv.type == "zset") {
    c.Append({"ZRANGE", k, "0", "-1", "WITHSCORES"});
  } else if (kv.type == "list") {
    c.Append({"LRANGE", k, "0", "-1"});
  } else if (kv.type == "stream") {
    c.Append({"XRANGE", k, "-", "+"});
  } else if (kv.type != "none" && dump_other_types) {
    c.Append({"DUMP", k});
  } else {
    return false;
  }
  return true;
}

// Stores reply `r` as kv's value. False if it does not fit the type (the key vanished or
// changed type meanwhile).
bool TakeValue(ReplyView r, KeyValue& kv) {
  const bool scalar = kv.type == "string" || !(kv.type == "hash" || kv.type == "zset" ||
                                               kv.type == "set" || kv.type == "list" ||
                                               kv.type == "stream");
  if (scalar) {
    if (r.type() != ReplyType::kString) return false;
    kv.str = std::string(r.str());
    return true;
  }
  if (r.type() != ReplyType::kArray) return false;
  if (kv.type == "hash" || kv.type == "zset") {
    for (size_t i = 0; i + 1 < r.size(); i += 2) {
      kv.pairs.emplace_back(r.element(i).str(), r.element(i + 1).str());
    }
  } else if (kv.type == "set" || kv.type == "list") {
    for (size_t i = 0; i < r.size(); ++i) kv.items.emplace_back(r.element(i).str());
  } else {  // stream
    for (size_t i = 0; i < r.size(); ++i) {
      ReplyView e = r.element(i);
      if (e.size() != 2) return false;
      StreamEntry entry{.id = std::string(e.element(0).str())};
      ReplyView f = e.element(1);
      for (size_t j = 0; j + 1 < f.size(); j += 2) {
        entry.fields.emplace_back(f.element(j).str(), f.element(j + 1).str());
      }
      kv.entries.push_back(std::move(entry));
    }
  }
  Canonicalize(kv);
  return true;
}

// Back to type "none" with no value (read as missing).
void Vanish(KeyValue& kv) { kv = KeyValue{.key = std::move(kv.key), .type = "none"}; }

}  // namespace

Result<std::vector<std::string>> ScanKeys(redis::Connection& c,
                                          const std::function<bool(std::string_view)>& wanted) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto r = c.Command({"SCAN", cursor, "COUNT", "1000"});
    if (!r) return r.error();
    if (r->IsError()) return ReplyError(c, r->view());
    if (r->size() != 2) return Error(Errc::kInternal, "SCAN: unexpected reply " + r->DebugString());
    cursor = std::string(r->element(0).str());
    ReplyView batch = r->element(1);
    for (size_t i = 0; i < batch.size(); ++i) {
      std::string_view k = batch.element(i).str();
      if (wanted(k)) keys.emplace_back(k);
    }
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());  // SCAN may repeat keys
  return keys;
}

Result<std::vector<KeyValue>> ReadKeys(redis::Connection& c, const std::vector<std::string>& keys,
                                       const ReadOptions& opts) {
  std::vector<KeyValue> out(keys.size());
  if (keys.empty()) return out;
  const std::string_view expiry = opts.expiry == Expiry::kTtl ? "PTTL" : "PEXPIRETIME";
  for (const auto& k : keys) {
    c.Append({"TYPE", k});
    c.Append({expiry, k});
  }
  auto meta = c.ReadReplies(c.pending());
  if (!meta) return meta.error();
  for (size_t i = 0; i < keys.size(); ++i) {
    const redis::Reply& type = (*meta)[2 * i];
    const redis::Reply& exp = (*meta)[2 * i + 1];
    if (type.IsError()) return ReplyError(c, type.view());
    if (exp.IsError()) return ReplyError(c, exp.view());
    out[i].key = keys[i];
    out[i].type = std::string(type.str());
    const int64_t e = exp.integer() >= 0 ? exp.integer() : -1;  // -2 (missing) is no expiry
    (opts.expiry == Expiry::kTtl ? out[i].ttl_ms : out[i].expire_at_ms) = e;
  }
  std::vector<size_t> reading;  // appended only once nothing can fail before reading them
  for (size_t i = 0; i < out.size(); ++i) {
    if (AppendRead(c, out[i], opts.dump_other_types)) reading.push_back(i);
  }
  if (reading.empty()) return out;
  auto values = c.ReadReplies(c.pending());
  if (!values) return values.error();
  for (size_t j = 0; j < reading.size(); ++j) {
    KeyValue& kv = out[reading[j]];
    const redis::Reply& r = (*values)[j];
    if (r.IsError() && !opts.error_reads_as_missing) return ReplyError(c, r.view());
    if (!TakeValue(r.view(), kv)) Vanish(kv);
  }
  return out;
}

}  // namespace walrus::dataset
