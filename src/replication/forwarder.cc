#include "replication/forwarder.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <thread>

#include "core/log.h"
#include "core/src_mac.h"
#include "kafka/handles.h"
#include "replication/forwarder_prefetch.h"
#include "replication/forwarder_signer.h"

namespace walrus::replication {
namespace {

using kafka::internal::ToError;
using Clock = std::chrono::steady_clock;

// How long Assign() waits for the source topics' metadata (ms).
constexpr int kLeaderWait = 5000;

// Per-record opaque of a produced record: 0 for a control record, else source offset + 1 (the
// route is found again from the delivered record's topic and partition): no allocation.
void* OffsetOpaque(int64_t offset) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(offset + 1));
}
int64_t OpaqueOffset(void* p) { return static_cast<int64_t>(reinterpret_cast<uintptr_t>(p)) - 1; }


}  // namespace

struct Forwarder::Impl {
  // A topic of one side and the route of each of its partitions (-1: not routed).
  struct Topic {
    std::string name;
    const rd_kafka_topic_t* rkt = nullptr;  // source: learned from its first record
    kafka::internal::TopicPtr handle;       // target: ours, passed to every produce
    kafka::internal::TopicPtr known;        // source: keeps the topic (and its leaders) known
    std::vector<int> route_of;
  };

  Options opts;
  bool transactional = false;
  bool in_tx = false;
  kafka::internal::KafkaPtr producer;  // destroyed last (members below reference it)
  kafka::internal::KafkaPtr consumer;
  kafka::internal::QueuePtr queue;  // the consumer queue
  std::vector<Route> routes;
  std::vector<Progress> progress;
  std::vector<Topic> sources, targets;
  Totals totals;
  std::vector<OutOfRange> out_of_range;
  Status failure;
  std::vector<int> route_target;  // route -> index in targets
  // With a source key: signs on the prefetch thread (declared before it: outlives it).
  std::unique_ptr<internal::ForwarderSigner> signer;
  std::unique_ptr<internal::ForwarderPrefetch> prefetch;  // serves `queue` once assigned
  std::vector<internal::PrefetchedRecord> buf;
  std::string scratch;  // provenance header value being built

  ~Impl() {
    if (producer) {
      if (rd_kafka_flush(producer.get(), 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        Logger("kafka")->warn("forwarder closing with {} undelivered records; failing them",
                              rd_kafka_outq_len(producer.get()));
        rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        (void)rd_kafka_flush(producer.get(), 1000);  // serves the purge reports
      }
    }
    if (consumer) {
      prefetch.reset();  // joined before the queue it serves goes
      queue.reset();
      rd_kafka_assign(consumer.get(), nullptr);
      rd_kafka_consumer_close(consumer.get());
    }
    targets.clear();  // topic handles before their clients
    sources.clear();
  }

  // Route of a record by (topic, partition) in `topics`; -1 when none. Topics are matched by
  // handle pointer (one per topic and client: the target's are ours, the source's are learned
  // from their first record), by name otherwise.
  static int RouteOf(std::vector<Topic>& topics, const rd_kafka_topic_t* rkt, int32_t partition) {
    Topic* hit = nullptr;
    for (auto& t : topics) {
      if ((t.handle ? t.handle.get() : t.rkt) == rkt) hit = &t;
    }
    if (hit == nullptr) {
      const char* name = rd_kafka_topic_name(rkt);
      for (auto& t : topics) {
        if (t.name == name) hit = &t;
      }
      if (hit == nullptr) return -1;
      if (!hit->handle) hit->rkt = rkt;
    }
    return partition >= 0 && static_cast<size_t>(partition) < hit->route_of.size()
               ? hit->route_of[partition]
               : -1;
  }

  void Fail(Error e) {
    if (failure.ok()) failure = std::move(e);
  }

  // dr_msg_cb body: runs on the thread serving the producer (the caller's).
  void OnDelivery(const rd_kafka_message_t* m) {
    const int64_t off = OpaqueOffset(m->_private);
    const int route = off < 0 ? -1 : RouteOf(targets, m->rkt, m->partition);
    if (off >= 0 && route >= 0) {
      Progress& p = progress[route];
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        --p.inflight;
        if (off + 1 > p.acked_next) p.acked_next = off + 1;
        ++totals.acked;
        return;
      }
      // A failed record stays in flight: Committable() never passes it.
      const Route& r = routes[route];
      Fail(ToError(m->err, fmt::format("copy of {}[{}]@{} to {}", r.topic, r.partition, off,
                                       r.target_topic)));
      return;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail(ToError(m->err, fmt::format("produce to {}[{}]", rd_kafka_topic_name(m->rkt),
                                       m->partition)));
    }
  }

  static void DeliveryCallback(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    static_cast<Impl*>(opaque)->OnDelivery(m);
  }

  // rd_kafka_flush() without its 10 ms steps: it sleeps on the delivery report queue in steps of
  // 10 ms, and with delivery.report.only.error no successful delivery ends a step early, so every
  // flush (and every transaction commit, which flushes) took >= 10 ms. Here: 1 ms steps.
  rd_kafka_resp_err_t WaitDelivered(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      // Non-blocking flush: linger counts as expired, broker threads woken, reports served.
      if (rd_kafka_flush(producer.get(), 0) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return RD_KAFKA_RESP_ERR_NO_ERROR;
      }
      if (Clock::now() >= deadline) return RD_KAFKA_RESP_ERR__TIMED_OUT;
      rd_kafka_poll(producer.get(), 1);
    }
  }

  Status EnsureTransaction() {
    if (!transactional || in_tx) return Status::Ok();
    Status s =
        kafka::internal::ToStatus(rd_kafka_begin_transaction(producer.get()), "begin transaction");
    in_tx = s.ok();
    return s;
  }

  // Produces `m` (a consumed record) to its route with `hdrs` (its headers, detached, or null)
  // plus the provenance header and, with a source key, its walrus-src-mac (prepared by the
  // prefetch thread in `rec`); waits for queue room.
  Status Forward(rd_kafka_message_t* m, rd_kafka_headers_t* hdrs, int route, int64_t ts,
                 const internal::PrefetchedRecord& rec) {
    const Route& r = routes[route];
    scratch.assign(r.provenance);  // capacity kept: no allocation once warm
    char digits[24];
    scratch.append(digits, std::to_chars(digits, digits + sizeof digits, m->offset).ptr);
    // The target keeps this create time; the MAC covers it (0 would let librdkafka pick "now").
    const int64_t ts_out = rec.signed_mac ? rec.ts : internal::ForwarderSigner::CopyTimestamp(ts);
    if (hdrs == nullptr) hdrs = rd_kafka_headers_new(2);
    kafka::internal::HeadersPtr owned(hdrs);
    if (signer && !rec.signed_mac) {
      // Cannot happen (the signer sees every routed record); never forward one unsigned.
      return Error(Errc::kInternal, fmt::format("{}[{}]@{} was not signed", r.topic, r.partition,
                                                m->offset));
    }
    rd_kafka_header_add(hdrs, opts.provenance_header.data(),
                        static_cast<ssize_t>(opts.provenance_header.size()), scratch.data(),
                        static_cast<ssize_t>(scratch.size()));
    if (signer) rd_kafka_header_add(hdrs, kSrcMacHeader, -1, rec.mac, SrcMac::kValueSize);
    rd_kafka_vu_t vus[8];
    vus[0].vtype = RD_KAFKA_VTYPE_RKT;
    vus[0].u.rkt = targets[static_cast<size_t>(route_target[route])].handle.get();
    vus[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vus[1].u.i32 = r.partition;
    vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[2].u.i = RD_KAFKA_MSG_F_COPY;
    vus[3].vtype = RD_KAFKA_VTYPE_KEY;
    vus[3].u.mem.ptr = m->key;
    vus[3].u.mem.size = m->key_len;
    vus[4].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[4].u.mem.ptr = m->payload;
    vus[4].u.mem.size = m->len;
    vus[5].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vus[5].u.i64 = ts_out;
    vus[6].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[6].u.ptr = OffsetOpaque(m->offset);
    vus[7].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[7].u.headers = hdrs;
    return ProduceVa(vus, 8, owned, r.target_topic, r.partition);
  }

  // rd_kafka_produceva with waits for queue room (serving delivery reports meanwhile). On success
  // the headers belong to librdkafka.
  Status ProduceVa(rd_kafka_vu_t* vus, size_t n, kafka::internal::HeadersPtr& hdrs,
                   std::string_view topic, int32_t partition) {
    if (Status s = EnsureTransaction(); !s.ok()) return s;
    const auto deadline = Clock::now() + kQueueFullWait;
    for (;;) {
      rd_kafka_error_t* err = rd_kafka_produceva(producer.get(), vus, n);
      if (err == nullptr) {
        (void)hdrs.release();
        return Status::Ok();
      }
      if (rd_kafka_error_code(err) != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= deadline ||
          (opts.cancel != nullptr && opts.cancel->load())) {
        return kafka::internal::ToStatus(err, fmt::format("produce to {}[{}]", topic, partition));
      }
      rd_kafka_error_destroy(err);
      rd_kafka_poll(producer.get(), 10);  // delivery reports make room
    }
  }
};

Forwarder::Forwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Forwarder::~Forwarder() = default;

Result<std::unique_ptr<Forwarder>> Forwarder::Create(Options opts) {
  auto impl = std::make_unique<Impl>();
  // Producer: idempotent, Java-compatible key hash (control records are partitioned by key).
  kafka::Properties pdefaults = {{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}};
  if (!opts.per_record_acks) pdefaults.emplace_back("delivery.report.only.error", "true");
  auto pconf = kafka::internal::MakeConf(pdefaults, opts.target);
  if (!pconf) return pconf.error();
  rd_kafka_conf_set_dr_msg_cb(pconf->get(), &Impl::DeliveryCallback);
  rd_kafka_conf_set_opaque(pconf->get(), impl.get());
  auto prod = kafka::internal::NewClient(RD_KAFKA_PRODUCER, std::move(*pconf));
  if (!prod) return prod.error();
  impl->producer = std::move(*prod);
  // Consumer: assignment only (never joins or commits to the group); never resets a position.
  if (kafka::internal::HasProperty(opts.source, "auto.offset.reset")) {
    return Error(Errc::kInvalidArgument,
                 "forwarder: auto.offset.reset cannot be set for the source (a position outside "
                 "the source log is reported, never reset: docs/log-gaps.md)");
  }
  auto cconf = kafka::internal::MakeConf({{"group.id", "walrus-forwarder"},
                                          {"enable.auto.commit", "false"},
                                          {"enable.auto.offset.store", "false"},
                                          {"auto.offset.reset", "error"},
                                          {"enable.partition.eof", "false"}},
                                         opts.source);
  if (!cconf) return cconf.error();
  auto cons = kafka::internal::NewClient(RD_KAFKA_CONSUMER, std::move(*cconf));
  if (!cons) return cons.error();
  impl->consumer = std::move(*cons);
  rd_kafka_poll_set_consumer(impl->consumer.get());
  impl->queue.reset(rd_kafka_queue_get_consumer(impl->consumer.get()));
  impl->transactional = kafka::internal::HasProperty(opts.target, "transactional.id");
  impl->opts = std::move(opts);
  return std::unique_ptr<Forwarder>(new Forwarder(std::move(impl)));
}

Status Forwarder::WarmUp(const std::vector<std::string>& topics,
                         std::chrono::milliseconds timeout) {
  Status first;
  for (const auto& t : topics) {
    kafka::internal::TopicPtr rkt(rd_kafka_topic_new(impl_->producer.get(), t.c_str(), nullptr));
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(impl_->producer.get(), 0, rkt.get(), &md,
                                       static_cast<int>(timeout.count()));
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && first.ok()) first = ToError(err, "metadata for " + t);
  }
  return first;
}

Status Forwarder::Assign(std::vector<Route> routes) {
  Impl& f = *impl_;
  if (!f.routes.empty()) return Error(Errc::kInvalidArgument, "forwarder: routes already set");
  auto slot = [](std::vector<Impl::Topic>& topics, const std::string& name) -> Impl::Topic& {
    for (auto& t : topics) {
      if (t.name == name) return t;
    }
    topics.push_back(Impl::Topic{.name = name});
    return topics.back();
  };
  kafka::internal::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(routes.size())));
  for (size_t i = 0; i < routes.size(); ++i) {
    const Route& r = routes[i];
    for (auto* t : {&slot(f.sources, r.topic), &slot(f.targets, r.target_topic)}) {
      if (t->route_of.size() <= static_cast<size_t>(r.partition)) t->route_of.resize(r.partition + 1, -1);
      if (t->route_of[r.partition] >= 0) {
        return Error(Errc::kInvalidArgument, fmt::format("forwarder: {}[{}] routed twice", t->name,
                                                         r.partition));
      }
      t->route_of[r.partition] = static_cast<int>(i);
    }
    Progress p;
    if (r.start >= 0) p.taken_next = p.acked_next = r.start;
    f.progress.push_back(p);
    rd_kafka_topic_partition_list_add(list.get(), r.topic.c_str(), r.partition)->offset = r.start;
  }
  f.route_target.resize(routes.size());
  for (size_t t = 0; t < f.targets.size(); ++t) {
    f.targets[t].handle.reset(
        rd_kafka_topic_new(f.producer.get(), f.targets[t].name.c_str(), nullptr));
    for (int route : f.targets[t].route_of) {
      if (route >= 0) f.route_target[route] = static_cast<int>(t);
    }
  }
  f.routes = std::move(routes);
  // The consumer learns the source partitions' leaders before they are assigned: a partition
  // assigned while its leader is unknown waits for librdkafka's 500 ms offset-query retry timer
  // (a mirror started, or restarted, ~0.5 s later than needed). Best effort.
  for (auto& t : f.sources) {
    t.known.reset(rd_kafka_topic_new(f.consumer.get(), t.name.c_str(), nullptr));
    const rd_kafka_metadata_t* md = nullptr;
    (void)rd_kafka_metadata(f.consumer.get(), 0, t.known.get(), &md, kLeaderWait);
    kafka::internal::MetadataPtr owned(md);
  }
  if (auto e = rd_kafka_assign(f.consumer.get(), list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "assign");
  }
  internal::ForwarderPrefetch::Prepare prepare;
  if (f.opts.src_key) {
    f.signer = std::make_unique<internal::ForwarderSigner>(*f.opts.src_key, f.routes);
    prepare = [s = f.signer.get()](internal::PrefetchedRecord& r) { s->Sign(r); };
  }
  f.prefetch = std::make_unique<internal::ForwarderPrefetch>(f.queue.get(), std::move(prepare));
  f.prefetch->Start();
  return Status::Ok();
}

Result<size_t> Forwarder::Pump(size_t max, std::chrono::milliseconds timeout, const SkipFn& skip) {
  Impl& f = *impl_;
  if (!f.failure.ok()) return f.failure.error();
  if (max == 0 || !f.prefetch) return size_t{0};
  f.buf.clear();
  f.prefetch->Take(max, timeout, f.buf);
  Status err;
  size_t taken = 0;
  for (const internal::PrefetchedRecord& rec : f.buf) {
    kafka::internal::MessagePtr m(rec.msg);
    // Parsed by the prefetch thread, then moved to the copy.
    rd_kafka_headers_t* hdrs = rec.hdrs;
    if (!err.ok() || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    }
    if (!err.ok()) continue;  // after an error: only release the rest
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && m->rkt != nullptr) {
        // auto.offset.reset=error: the fetch position is not in the log; fetching stopped.
        const int route = Impl::RouteOf(f.sources, m->rkt, m->partition);
        if (route >= 0) {
          f.out_of_range.push_back({static_cast<size_t>(route), m->offset});
          continue;
        }
      }
      char fatal[512] = {0};
      if (auto e = rd_kafka_fatal_error(f.consumer.get(), fatal, sizeof fatal); e) {
        err = ToError(e, "source consumer fatal error", fatal);
        continue;
      }
      static const auto log = Logger("kafka");
      WALRUS_LOG_EVERY_MS(log, warn, 2000, "forwarder: source: {}",
                          ToError(m->err, "consume", rd_kafka_message_errstr(m.get())).message);
      continue;
    }
    const int route = Impl::RouteOf(f.sources, m->rkt, m->partition);
    if (route < 0) {
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
      continue;
    }
    Progress& p = f.progress[static_cast<size_t>(route)];
    ++taken;
    rd_kafka_timestamp_type_t tstype;
    p.last_ts = rd_kafka_message_timestamp(m.get(), &tstype);
    if (skip && skip(View(hdrs))) {
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
      p.taken_next = m->offset + 1;
      ++f.totals.skipped;
      continue;
    }
    ++p.inflight;
    if (Status s = f.Forward(m.get(), hdrs, route, p.last_ts, rec); !s.ok()) {
      --p.inflight;
      err = s;
      continue;
    }
    p.taken_next = m->offset + 1;
    f.totals.bytes += m->key_len + m->len;
  }
  rd_kafka_poll(f.producer.get(), 0);
  if (!err.ok()) return err.error();
  if (!f.failure.ok()) return f.failure.error();
  return taken;
}

Status Forwarder::Produce(const std::string& topic, std::string_view key, std::string_view value) {
  rd_kafka_vu_t vus[5];
  vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[0].u.cstr = topic.c_str();
  vus[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[1].u.i = RD_KAFKA_MSG_F_COPY;
  vus[2].vtype = RD_KAFKA_VTYPE_KEY;
  vus[2].u.mem.ptr = const_cast<char*>(key.data());
  vus[2].u.mem.size = key.size();
  vus[3].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[3].u.mem.ptr = const_cast<char*>(value.data());
  vus[3].u.mem.size = value.size();
  vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[4].u.ptr = nullptr;
  kafka::internal::HeadersPtr none;
  return impl_->ProduceVa(vus, 5, none, topic, -1);
}

void Forwarder::Serve() { rd_kafka_poll(impl_->producer.get(), 0); }

Status Forwarder::Flush(std::chrono::milliseconds timeout) {
  Impl& f = *impl_;
  const auto err = f.WaitDelivered(timeout);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (!f.failure.ok()) return Status::Ok();  // the failure is reported by Failure()/Pump()
    for (auto& p : f.progress) {  // all delivered: what per-record reports would have said
      f.totals.acked += static_cast<uint64_t>(p.inflight);
      p.inflight = 0;
      p.acked_next = std::max(p.acked_next, p.taken_next);
    }
    return Status::Ok();
  }
  return ToError(err, fmt::format("flush ({} records still queued)",
                                  rd_kafka_outq_len(impl_->producer.get())));
}

Status Forwarder::Failure() const {
  if (!impl_->failure.ok()) return impl_->failure;
  char fatal[512] = {0};
  if (auto e = rd_kafka_fatal_error(impl_->producer.get(), fatal, sizeof fatal); e) {
    return ToError(e, "target producer fatal error", fatal);
  }
  return Status::Ok();
}

Status Forwarder::InitTransactions(std::chrono::milliseconds timeout) {
  return kafka::internal::ToStatus(
      rd_kafka_init_transactions(impl_->producer.get(), static_cast<int>(timeout.count())),
      "init transactions");
}

Status Forwarder::CommitTransaction(std::chrono::milliseconds timeout) {
  // Delivered first, so that the commit's own flush (10 ms steps) finds nothing to wait for.
  if (const auto e = impl_->WaitDelivered(timeout); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "flush before commit");
  }
  Status s = kafka::internal::ToStatus(
      rd_kafka_commit_transaction(impl_->producer.get(), static_cast<int>(timeout.count())),
      "commit transaction");
  if (s.ok()) impl_->in_tx = false;
  return s;
}

Status Forwarder::AbortTransaction(std::chrono::milliseconds timeout) {
  impl_->in_tx = false;
  return kafka::internal::ToStatus(
      rd_kafka_abort_transaction(impl_->producer.get(), static_cast<int>(timeout.count())),
      "abort transaction");
}

bool Forwarder::InTransaction() const { return impl_->in_tx; }

const std::vector<Forwarder::Progress>& Forwarder::progress() const { return impl_->progress; }

const Forwarder::Totals& Forwarder::totals() const { return impl_->totals; }

const std::vector<Forwarder::OutOfRange>& Forwarder::out_of_range() const {
  return impl_->out_of_range;
}

Result<std::string> Forwarder::SourceClusterId(std::chrono::milliseconds timeout) const {
  char* id = rd_kafka_clusterid(impl_->consumer.get(), static_cast<int>(timeout.count()));
  if (id == nullptr) return Error(Errc::kUnavailable, "source cluster id: not known (yet)");
  std::string out(id);
  rd_kafka_mem_free(impl_->consumer.get(), id);
  return out;
}

Result<std::pair<int64_t, int64_t>> Forwarder::Watermarks(size_t route) const {
  const Route& r = impl_->routes.at(route);
  int64_t lo = kafka::kOffsetInvalid, hi = kafka::kOffsetInvalid;
  const auto e = rd_kafka_get_watermark_offsets(impl_->consumer.get(), r.topic.c_str(),
                                                r.partition, &lo, &hi);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, fmt::format("watermarks {}[{}]", r.topic, r.partition));
  }
  if (hi == kafka::kOffsetInvalid) {
    return Error(Errc::kNotFound, fmt::format("watermarks {}[{}]: not fetched yet", r.topic,
                                              r.partition));
  }
  return std::make_pair(lo, hi);
}

std::optional<std::string_view> Forwarder::View::header(const char* name) const {
  const void* val = nullptr;
  size_t size = 0;
  if (hdrs_ == nullptr || rd_kafka_header_get_last(hdrs_, name, &val, &size) !=
                              RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  if (val == nullptr) return std::string_view();
  return std::string_view(static_cast<const char*>(val), size);
}

}  // namespace walrus::replication
