#include "replication/forwarder_signer.h"

#include <librdkafka/rdkafka.h>

#include <charconv>
#include <chrono>
#include <cstring>

namespace walrus::replication::internal {
namespace {

std::optional<std::string_view> Bytes(const void* p, size_t n) {
  if (p == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(p), n);
}

}  // namespace

ForwarderSigner::ForwarderSigner(const SrcKey& key, const std::vector<Forwarder::Route>& routes)
    : routes_(routes), mac_(key) {
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& r = routes_[i];
    Topic* t = nullptr;
    for (auto& x : topics_) {
      if (x.name == r.topic) t = &x;
    }
    if (t == nullptr) t = &topics_.emplace_back(Topic{r.topic, {}});
    if (r.partition < 0) continue;
    if (t->route_of.size() <= static_cast<size_t>(r.partition)) {
      t->route_of.resize(static_cast<size_t>(r.partition) + 1, -1);
    }
    t->route_of[static_cast<size_t>(r.partition)] = static_cast<int>(i);
  }
}

int64_t ForwarderSigner::CopyTimestamp(int64_t source_ts) {
  if (source_ts > 0) return source_ts;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int ForwarderSigner::RouteOf(const rd_kafka_topic_t* rkt, int32_t partition) {
  if (rkt != last_rkt_) {
    const char* name = rd_kafka_topic_name(rkt);
    last_topic_ = -1;
    for (size_t i = 0; i < topics_.size(); ++i) {
      if (topics_[i].name == name) last_topic_ = static_cast<int>(i);
    }
    last_rkt_ = rkt;
  }
  if (last_topic_ < 0 || partition < 0) return -1;
  const auto& of = topics_[static_cast<size_t>(last_topic_)].route_of;
  return static_cast<size_t>(partition) < of.size() ? of[static_cast<size_t>(partition)] : -1;
}

void ForwarderSigner::Sign(PrefetchedRecord& rec) {
  rd_kafka_message_t* m = rec.msg;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  const int route = RouteOf(m->rkt, m->partition);
  if (route < 0) return;
  const Forwarder::Route& r = routes_[static_cast<size_t>(route)];
  src_.assign(r.provenance);  // capacity kept
  char digits[24];
  src_.append(digits, std::to_chars(digits, digits + sizeof digits, m->offset).ptr);
  rd_kafka_timestamp_type_t tstype;
  rec.ts = CopyTimestamp(rd_kafka_message_timestamp(m, &tstype));
  const size_t n = rec.hdrs != nullptr ? rd_kafka_header_cnt(rec.hdrs) : 0;
  mac_.Begin({.target_topic = r.target_topic,
              .target_partition = r.partition,
              .src = src_,
              .timestamp_ms = rec.ts,
              .key = Bytes(m->key, m->key_len),
              .value = Bytes(m->payload, m->len),
              .header_count = n});
  const char* name = nullptr;
  const void* val = nullptr;
  size_t size = 0;
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_header_get_all(rec.hdrs, i, &name, &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return;  // cannot happen (i < count); unsigned, the copying thread signs it itself
    }
    mac_.Header(name, Bytes(val, size));
  }
  mac_.Finish(rec.mac);
  rec.signed_mac = true;
}

}  // namespace walrus::replication::internal
