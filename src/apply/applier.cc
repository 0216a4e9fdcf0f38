#include "apply/applier.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>
#include <stdexcept>
#include <thread>

#include "core/json_codec.h"
#include "core/log.h"
#include "core/planner.h"
#include "core/sha1.h"
#include "dataset/lag.h"
#include "apply/outbox.h"
#include "apply/source_coords.h"
#include "apply/tx_runner.h"
#include "kafka/admin.h"
#include "protocol/headers.h"
#include "protocol/redis_keys.h"

namespace walrus::apply {
namespace {

const char* CategoryOf(const Error& e) {
  if (e.Is(Errc::kRefused)) return "refused";
  return "decode";
}

}  // namespace

std::string PositionKey(const std::string& topic, int32_t partition) {
  return protocol::PositionKey(topic, partition);
}

Applier::Applier(ApplyConfig cfg, std::unique_ptr<redis::PrimaryLocator> locator,
                 std::unique_ptr<WritePlanner> planner, ApplyProbe& probe,
                 const std::atomic<bool>& stop, Clock& clock)
    : cfg_(std::move(cfg)),
      clock_(clock),
      planner_(std::move(planner)),
      probe_(probe),
      stop_(stop),
      session_(std::move(locator), RedisSession::RealConnector(), probe, clock, cfg_.backoff_max),
      outbox_(clock, probe, cfg_.backoff_max),
      crash_hooks_(cfg_.enable_test_hooks),
      guard_(probe, PartitionGuard::Options{.start_from = cfg_.start_from}),
      tasks_(clock, cfg_.commit_interval) {
  session_.set_hooks({.resync = [this] { return Resync(); },
                      .dropped = [this] { OnRedisDropped(); },
                      .partitions = [this] { return parts_.size(); }});
  std::vector<Argv> prelude;
  const auto scripts = planner_->Scripts();
  for (const auto& body : scripts) prelude.push_back({"SCRIPT", "LOAD", body});
  // Dead letters go to the outbox atomically with the effects (outbox.h): crdt mode through the
  // merge script, plain mode through the apply script.
  if (cfg_.mode == Mode::kCrdt) {
    tx_.set_guard(Transaction::Guard::kMergeScript);
    inflight_.tx().set_guard(Transaction::Guard::kMergeScript);
  } else {
    prelude.push_back({"SCRIPT", "LOAD", ApplyScript()});
    const std::string atomic = scripts.empty() ? std::string() : Sha1Hex(scripts.front());
    tx_.set_guard(Transaction::Guard::kApplyScript, atomic);
    inflight_.tx().set_guard(Transaction::Guard::kApplyScript, atomic);
  }
  tx_.set_prelude(prelude);
  inflight_.tx().set_prelude(std::move(prelude));
  if (cfg_.mode == Mode::kCrdt && cfg_.gc.horizon.count() > 0) {
    gc_ = std::make_unique<GcSweeper>(cfg_.gc, probe_, clock_);
  }
}

Applier::~Applier() {
  if (ensure_dlq_.valid()) ensure_dlq_.wait();
}

void Applier::Init() {
  kafka::Properties common = {{"bootstrap.servers", cfg_.brokers},
                              {"client.id", "walrus-apply-" + cfg_.group}};
  kafka::Properties cprops = common;
  cprops.emplace_back("group.id", cfg_.group);
  // librdkafka stops fetching every partition once the consumer queue holds queued.min.messages
  // (default 100k) and resumes late: a backlog drain ran dry for 0.35-0.5 s in every 250k
  // records, Redis and the applier both idle (SET ratio 0.41-0.57 of redis-benchmark; with 1M,
  // 0.75-0.84). Memory stays bounded by queued.max.messages.kbytes (64 MiB); -X overrides.
  cprops.emplace_back("queued.min.messages", "1000000");
  // Never let librdkafka move a partition by itself: a position outside the log is held by the
  // PartitionGuard instead (docs/log-gaps.md); --start-from seeks explicitly.
  cprops.emplace_back("auto.offset.reset", "error");
  for (const auto& [k, v] : cfg_.kafka_props) {
    if (k == "auto.offset.reset" && v != "error") {
      throw std::runtime_error("-X auto.offset.reset=" + v +
                               ": walrus apply never resets offsets automatically (a reset could "
                               "skip unapplied records); use --start-from for partitions without "
                               "a stored position, `walrus position` for held ones");
    }
    // A partition whose fetch went out of range is restarted by an incremental re-assign
    // (Consumer::Seek), which only the cooperative protocol allows: an eager assignor would
    // leave it stopped and every resync failing.
    if (k == "partition.assignment.strategy" && v != "cooperative-sticky") {
      throw std::runtime_error("-X partition.assignment.strategy=" + v +
                               ": walrus apply needs cooperative-sticky (restarting a partition "
                               "after a fetch out of range needs the cooperative protocol)");
    }
  }
  for (const auto& kv : cfg_.kafka_props) cprops.push_back(kv);
  auto consumer = kafka::Consumer::Create(cprops, this);
  if (!consumer) throw std::runtime_error("kafka consumer: " + consumer.error().message);
  consumer_ = std::move(*consumer);

  kafka::Properties pprops = common;
  // Dead letters may be as large as anything the source topic accepted.
  pprops.emplace_back("message.max.bytes", "67108864");
  for (const auto& [k, v] : cfg_.kafka_props) {
    // Consumer-only properties would only produce warnings on the DLQ producer.
    if (k.rfind("group.", 0) == 0 || k == "isolation.level" || k == "auto.offset.reset" ||
        k.rfind("enable.auto", 0) == 0 || k == "partition.assignment.strategy" ||
        k.rfind("fetch.", 0) == 0 || k.rfind("session.", 0) == 0 ||
        k.rfind("max.poll", 0) == 0 || k.rfind("queued.", 0) == 0 ||
        k == "heartbeat.interval.ms") {
      continue;
    }
    pprops.emplace_back(k, v);
  }
  auto producer = kafka::Producer::Create(pprops);
  if (!producer) throw std::runtime_error("kafka producer: " + producer.error().message);
  producer_ = std::shared_ptr<kafka::Producer>(std::move(*producer));
  dlq_ = std::make_unique<DeadLetterSink>(
      producer_, [this](const std::string& t) { return cfg_.DlqTopicFor(t); }, probe_, cfg_.group);
  outbox_drain_ = std::make_unique<OutboxDrain>(
      pprops, producer_, *dlq_, [this](const std::string& t) { return cfg_.DlqTopicFor(t); },
      probe_, cfg_.group);

  // DLQ topics for literal source topics (regex subscriptions rely on auto-creation). Done in the
  // background: a cluster without the Admin API (the mock) must not delay start-up.
  std::vector<std::pair<std::string, int>> dlq_topics;
  for (const auto& t : cfg_.topics) {
    if (!t.empty() && t[0] != '^') dlq_topics.emplace_back(cfg_.DlqTopicFor(t), 1);
  }
  ensure_dlq_ = std::async(std::launch::async, [pprops, dlq_topics] {
    auto existing = kafka::ListTopics(pprops, std::chrono::seconds(5));
    std::vector<std::pair<std::string, int>> missing;
    for (const auto& t : dlq_topics) {
      bool found = false;
      if (existing) {
        for (const auto& e : *existing) found = found || e.name == t.first;
      }
      if (!found) missing.push_back(t);
    }
    if (missing.empty()) return;
    if (auto st = kafka::CreateTopics(pprops, missing, std::chrono::seconds(5)); !st) {
      Logger("apply")->warn("could not create dead-letter topics (relying on auto-creation): {}",
                            st.error().message);
    }
  });

  decoder_ = std::make_unique<JsonDecoder>();
  if (auto st = consumer_->Subscribe(cfg_.topics); !st) {
    throw std::runtime_error("kafka subscribe: " + st.error().message);
  }
}

std::pair<bool, std::string> Applier::Ready() const {
  if (!assigned_once_.load()) return {false, "waiting for consumer group assignment"};
  if (halted_.load()) {
    std::lock_guard lock(status_mu_);
    return {false, halt_reason_};
  }
  if (!session_.ok()) return {false, "no Redis primary reachable"};
  if (auto error = outbox_.error(); !error.empty()) {
    return {false, "draining the dead-letter outbox: " + error};
  }
  if (auto held = guard_.HeldSummary(); !held.empty()) return {false, held};
  return {true, "assigned and connected"};
}

std::pair<bool, std::string> Applier::Healthy() const {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             clock_.Steady().time_since_epoch())
                             .count();
  const int64_t age = now_ms - last_progress_ms_.load();
  if (age > 60000) return {false, fmt::format("apply loop stuck for {} ms", age)};
  return {true, "apply loop running"};
}

PartitionState* Applier::Find(std::string_view topic, int32_t partition) {
  if (last_part_ && last_part_->partition == partition && last_part_->topic == topic) {
    return last_part_;
  }
  auto it = parts_.find(PartKey(std::string(topic), partition));
  last_part_ = it == parts_.end() ? nullptr : &it->second;
  return last_part_;
}

// ---- rebalance ------------------------------------------------------------------------------

void Applier::OnAssigned(std::vector<kafka::TopicPartition>& parts) {
  auto log = Logger("apply");
  inflight_.Settle(/*in_callback=*/true);  // positions are read on the same connection
  std::vector<PartitionState*> added;
  for (const auto& tp : parts) {
    auto& ps = parts_[PartKey(tp.topic, tp.partition)];
    ps.topic = tp.topic;
    ps.partition = tp.partition;
    ps.pos_key = PositionKey(tp.topic, tp.partition);
    ps.synced = false;
    ps.paused = false;
    added.push_back(&ps);
  }
  last_part_ = nullptr;
  if (session_.usable() && !added.empty()) {
    auto pos = ReadPositions(added);
    if (pos) {
      for (size_t i = 0; i < added.size(); ++i) {
        added[i]->next = (*pos)[i];
        added[i]->synced = true;
        parts[i].offset = (*pos)[i] >= 0 ? (*pos)[i]
                          : cfg_.start_from == StartFrom::kEarliest ? kafka::kOffsetBeginning
                                                                     : kafka::kOffsetEnd;
      }
      // Held ones are assigned all the same (their fetch fails or is discarded), paused after.
      if (auto st = guard_.CheckAtSeek(session_.conn(), *consumer_, added); !st) {
        session_.Drop("checking positions against the log: " + st.error().message);
      }
    } else {
      session_.Drop("reading positions: " + pos.error().message);
    }
  }
  for (auto& tp : parts) {
    if (tp.offset == kafka::kOffsetInvalid) tp.offset = kafka::kOffsetBeginning;
  }
  assigned_once_.store(true);
  outbox_.MarkDue();  // dead letters a crash left in the new partitions' outboxes: DrainOutbox
  probe_.assigned_partitions.Set(static_cast<double>(parts_.size()));
  for (const auto& tp : parts) {
    log->info("assigned topic={} partition={} start_offset={}", tp.topic, tp.partition, tp.offset);
  }
}

void Applier::OnRevoked(const std::vector<kafka::TopicPartition>& parts) {
  inflight_.Settle(/*in_callback=*/true);  // finish the batch in flight before letting go
  MaybeCommitOffsets(true);
  for (const auto& tp : parts) {
    Logger("apply")->info("revoked topic={} partition={}", tp.topic, tp.partition);
    if (auto it = parts_.find(PartKey(tp.topic, tp.partition)); it != parts_.end()) {
      guard_.Forget(it->second);
    }
    parts_.erase(PartKey(tp.topic, tp.partition));
    probe_.lag.Remove(&probe_.lag.Add({{"topic", tp.topic}, {"partition", std::to_string(tp.partition)}}));
    probe_.position.Remove(
        &probe_.position.Add({{"topic", tp.topic}, {"partition", std::to_string(tp.partition)}}));
  }
  last_part_ = nullptr;
  probe_.assigned_partitions.Set(static_cast<double>(parts_.size()));
}

// ---- Redis ----------------------------------------------------------------------------------

void Applier::OnRedisDropped() {
  inflight_.Clear();  // its outcome is unknown: the positions are read again on reconnect
  if (gc_) gc_->Restart();
  for (auto& [k, ps] : parts_) ps.synced = false;
}

Result<std::vector<int64_t>> Applier::ReadPositions(const std::vector<PartitionState*>& parts) {
  std::vector<std::string_view> argv{"MGET"};
  for (auto* p : parts) argv.push_back(p->pos_key);
  session_.conn().Append(argv);
  auto replies = session_.conn().ReadReplies(1);
  if (!replies) return replies.error();
  const auto& r = (*replies)[0];
  if (r.IsError()) return r.ToError();
  std::vector<int64_t> out;
  out.reserve(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    auto e = r.element(i);
    if (e.IsNil()) {
      out.push_back(-1);
      continue;
    }
    try {
      out.push_back(std::stoll(std::string(e.str())));
    } catch (const std::exception&) {
      return Error(Errc::kInternal, fmt::format("corrupt position in {}: '{}'", parts[i]->pos_key,
                                                e.str()));
    }
  }
  return out;
}

bool Applier::Resync() {
  inflight_.Clear();
  if (parts_.empty()) return true;
  std::vector<PartitionState*> all;
  for (auto& [k, ps] : parts_) all.push_back(&ps);
  auto pos = ReadPositions(all);
  if (!pos) {
    Logger("apply")->warn("reading positions failed: {}", pos.error().message);
    return false;
  }
  for (size_t i = 0; i < all.size(); ++i) all[i]->next = (*pos)[i];
  if (auto st = guard_.CheckAtSeek(session_.conn(), *consumer_, all); !st) {
    Logger("apply")->warn("checking positions against the log: {}", st.error().message);
    return false;
  }
  std::vector<kafka::TopicPartition> seeks;
  std::vector<kafka::TopicPartition> resume;
  for (size_t i = 0; i < all.size(); ++i) {
    auto* ps = all[i];
    const int64_t p = (*pos)[i];
    if (ps->hold) continue;  // stays where it is, paused by the guard
    const int64_t seek_to = p >= 0 ? p
                            : cfg_.start_from == StartFrom::kEarliest ? kafka::kOffsetBeginning
                                                                       : kafka::kOffsetEnd;
    seeks.push_back({ps->topic, ps->partition, seek_to});
    if (ps->paused) resume.push_back({ps->topic, ps->partition, seek_to});
  }
  // Resume before seeking: librdkafka 2.0 waits ~1 s before fetching a partition that was sought
  // while paused. Safe: nothing is polled in between, and the seek's version barrier discards
  // whatever was fetched from the old position.
  if (!resume.empty()) {
    if (auto st = consumer_->Resume(resume); !st) {
      Logger("apply")->warn("resume failed: {}", st.error().message);
      return false;
    }
  }
  if (auto st = consumer_->Seek(seeks); !st) {
    Logger("apply")->warn("seek after resync failed: {}", st.error().message);
    return false;
  }
  for (auto* ps : all) {
    ps->src_high.clear();
    ps->synced = true;
    if (!ps->hold) ps->paused = false;
    Logger("apply")->debug("resynced topic={} partition={} next={}", ps->topic, ps->partition,
                           ps->next);
  }
  outbox_.MarkDue();  // DrainOutbox before the next batch
  return true;
}

Result<int64_t> Applier::SourceHigh(PartitionState* ps, const std::string& key) {
  if (const int64_t pending = tx_.PendingSource(key); pending >= 0) return pending;
  if (inflight_.active()) {
    if (const int64_t pending = inflight_.tx().PendingSource(key); pending >= 0) return pending;
  }
  if (auto it = ps->src_high.find(key); it != ps->src_high.end()) return it->second;
  // The connection must be free for the GET. If the batch in flight failed, positions were
  // re-read (or the connection dropped): this batch's selection is void.
  if (!inflight_.Settle()) return Error(Errc::kConflict, "the batch in flight failed");
  auto r = session_.conn().Command({"GET", key});
  if (!r) return r.error();
  if (r->IsError()) return r->ToError();
  int64_t high = -1;
  if (!r->IsNil()) {
    try {
      high = std::stoll(std::string(r->str()));
    } catch (const std::exception&) {
      return Error(Errc::kInternal, "corrupt source position in " + key);
    }
  }
  ps->src_high.emplace(key, high);
  return high;
}

void Applier::PauseUnsynced() {
  std::vector<kafka::TopicPartition> to_pause;
  std::vector<PartitionState*> states;
  for (auto& [k, ps] : parts_) {
    if (!ps.synced && !ps.paused) {
      to_pause.push_back({ps.topic, ps.partition, kafka::kOffsetInvalid});
      states.push_back(&ps);
    }
  }
  if (to_pause.empty()) return;
  if (auto st = consumer_->Pause(to_pause); st) {
    for (auto* ps : states) ps->paused = true;
  }
}

// ---- the loop -------------------------------------------------------------------------------

void Applier::Run() {
  auto log = Logger("apply");
  log->info("applier running: {}", cfg_.Describe());
  while (!stop_.load()) {
    last_progress_ms_.store(std::chrono::duration_cast<std::chrono::milliseconds>(
                                clock_.Steady().time_since_epoch())
                                .count());
    if (halted_.load()) {
      inflight_.Settle();  // a batch pipelined behind the aborted one: its dead letters go out
      PollDiscarding();
      continue;
    }
    if (!session_.Ensure()) {
      PauseUnsynced();
      auto msgs = consumer_->PollBatch(cfg_.batch_max_ops, std::chrono::milliseconds(100));
      probe_.discarded.Increment(static_cast<double>(msgs.size()));
      continue;
    }
    if (outbox_.due() && !DrainOutbox()) {
      if (outbox_.failing()) PollDiscarding();
      continue;
    }
    auto msgs = consumer_->PollBatch(cfg_.batch_max_ops, cfg_.poll_timeout);
    if (!msgs.empty()) {
      ProcessBatch(msgs);
    } else {
      inflight_.Settle();
      FlushAckedOutbox();
      // An idle applier still notices a dead or demoted primary, so /readyz tells the truth.
      if (tasks_.TakePing(session_.connected())) session_.Ping();
    }
    MaybeCommitOffsets(false);
    UpdateLag();
    MaybeGc();
    MaybeCheckLogBounds();
  }
  log->info("stopping: committing offsets and leaving the group");
  inflight_.Settle();
  FlushAckedOutbox();
  MaybeCommitOffsets(true);
  consumer_->Close();
  if (auto st = producer_->Flush(std::chrono::seconds(10)); !st) {
    log->warn("flushing dead-letter producer: {}", st.error().message);
  }
  log->info("applier stopped");
}

void Applier::ProcessBatch(std::vector<kafka::Message>& msgs) {
  // A failed drain drops Redis: the partitions resync and these records are fetched again.
  if (outbox_.due() && !DrainOutbox()) return;
  tx_.Clear();
  accepted_.clear();
  if (!SelectRecords(msgs) || tx_.empty() || !session_.connected()) return;
  redis::Connection& conn = session_.conn();
  // Fence first (it needs only the partitions), then decode and plan while streaming the
  // commands to Redis, which parses and queues them meanwhile, behind the in-flight EXEC.
  const auto t0 = clock_.Steady();
  AppendFence(conn, tx_);
  BeginMulti(conn, tx_);
  size_t sent = 0, planned = 0;
  for (size_t i : accepted_) {
    PlanRecord(msgs, i);
    if (++planned % kStreamChunk == 0) {
      tx_.Seal();
      AppendCommands(conn, tx_, sent);
      sent = tx_.command_count();
      if (auto st = conn.Flush(); !st) {
        session_.Drop("sending transaction: " + st.error().message);
        return;
      }
    }
  }
  tx_.Seal();
  AppendCommands(conn, tx_, sent);
  // The batch in flight is settled behind this one; if it failed this one is discarded.
  if (!inflight_.SettleBehind()) return;
  TxResult r = ReadFence(conn, tx_, session_.epoch());
  if (r.outcome != TxOutcome::kCommitted) {
    if (DiscardQueued()) HandleFailure(r);
    return;
  }
  // Records refused before Redis are outbox entries of this transaction (Transaction::Refuse).
  outbox_.ClearInto(tx_);
  AppendExec(conn, tx_);
  if (auto st = conn.Flush(); !st) {
    session_.Drop("sending transaction: " + st.error().message);
    return;
  }
  // In flight until the next batch (or idleness, a rebalance, a GC step) reads its replies.
  for (const auto& a : tx_.advances()) a.part->pending_next = a.next;
  inflight_.Start(tx_, msgs, t0);
}

void Applier::Failed(const TxResult& r, bool in_callback) {
  if (in_callback) {
    if (r.outcome == TxOutcome::kStaleEpoch) probe_.epoch_refusals.Increment();
    session_.Drop("transaction failed: " + r.detail);  // no seeking inside a rebalance callback
  } else {
    HandleFailure(r);
  }
}

bool Applier::DiscardQueued() {
  if (Status st = session_.Discard(); !st) {
    session_.Drop("discarding a transaction: " + st.error().message);
    return false;
  }
  return true;
}

void Applier::Cleared() {
  for (auto& [k, ps] : parts_) ps.pending_next = PartitionState::kNoPending;
}

bool Applier::SelectRecords(std::vector<kafka::Message>& msgs) {
  for (size_t i = 0; i < msgs.size(); ++i) {
    auto& msg = msgs[i];
    if (auto st = msg.error(); !st) {
      if (guard_.OnConsumeError(msg, Find(msg.topic(), msg.partition()))) continue;
      WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 1000, "kafka: {}", st.error().message);
      continue;
    }
    PartitionState* ps = Find(msg.topic(), msg.partition());
    if (ps == nullptr || !ps->synced || ps->hold) {
      probe_.discarded.Increment();
      continue;
    }
    int64_t next = ps->effective_next();
    for (const auto& a : tx_.advances()) {
      if (a.part == ps) next = a.next;
    }
    if (next >= 0 && msg.offset() < next) {
      probe_.duplicates.Increment();
      continue;
    }
    tx_.Touch(ps, ps->effective_next(), msg.offset());
    if (msg.header(protocol::kSrcHeader)) {
      // A mirrored record: its coordinates count only once authenticated (source_auth.h); then
      // it is applied only if its source offset is new (mirror redeliveries).
      auto coords = src_auth_.Authenticate(msg);
      if (!coords) {
        tx_.Refuse(ps, i, msg.offset(), CategoryOf(coords.error()), coords.error().message);
        continue;
      }
      auto high = SourceHigh(ps, SourceKey(coords->stream));
      if (!high) {
        session_.Drop("reading source position: " + high.error().message);
        return false;
      }
      if (coords->offset <= *high) {
        probe_.duplicates.Increment();
        continue;
      }
      tx_.NoteSource(ps, SourceKey(coords->stream), coords->offset);
    }
    accepted_.push_back(i);
  }
  return true;
}

void Applier::PlanRecord(std::vector<kafka::Message>& msgs, size_t i) {
  auto& msg = msgs[i];
  PartitionState* ps = Find(msg.topic(), msg.partition());
  auto write = decoder_->Decode(msg.key(), msg.value());
  if (!write) {
    tx_.Refuse(ps, i, msg.offset(), CategoryOf(write.error()), write.error().message);
    return;
  }
  tx_.BeginRecord(ps, i, msg.offset());
  if (Status st = planner_->Plan(*write, msg.timestamp_ms(), tx_.commands()); !st) {
    tx_.AbortRecord();
    tx_.Refuse(ps, i, msg.offset(), CategoryOf(st.error()), st.error().message);
    return;
  }
  tx_.EndRecord();
  // crdt: the planner accepted only records with a valid hlc; walrus:hlc keeps the highest.
  if (cfg_.mode == Mode::kCrdt) tx_.NoteStamp(write->hlc);
}

void Applier::HandleFailure(const TxResult& r) {
  switch (r.outcome) {
    case TxOutcome::kRetry:
      probe_.retries.Increment();
      session_.Drop("transaction refused: " + r.detail);
      return;
    case TxOutcome::kStaleEpoch:
      session_.RefuseStaleEpoch(r.detail);
      return;
    case TxOutcome::kConflict:
      probe_.conflicts.Increment();
      Logger("apply")->warn("position fence fired, re-reading positions: {}", r.detail);
      if (!Resync()) session_.Drop("resync after conflict failed");
      return;
    default:
      session_.Drop("transaction failed: " + r.detail);
      return;
  }
}

void Applier::Committed(Transaction& tx, std::vector<kafka::Message>& msgs,
                        std::chrono::steady_clock::time_point t0) {
  const double secs = std::chrono::duration<double>(clock_.Steady() - t0).count();
  probe_.batch_seconds.Observe(secs);
  probe_.batch_ops.Observe(static_cast<double>(tx.records().size()));
  probe_.transactions.Increment();
  probe_.Committed();  // failover metrics: recovery time ends
  if (session_.epoch().newest() >= 0) {
    probe_.epoch.Set(static_cast<double>(session_.epoch().newest()));
  }
  probe_.last_apply_timestamp.SetToCurrentTime();
  for (const auto& a : tx.advances()) a.part->next = a.next;
  for (const auto& src : tx.sources()) src.part->src_high[src.key] = src.offset;
  size_t applied = 0, dead = tx.refusals().size();
  outbox_.Cleared(tx);
  bool aborted = false;
  for (const auto& rec : tx.records()) {
    if (rec.aborted) {
      aborted = true;
      continue;
    }
    rec.part->applied_ts_ms = std::max(rec.part->applied_ts_ms, msgs[rec.msg_index].timestamp_ms());
    if (rec.failed) {
      ++dead;
    } else {
      ++applied;
    }
  }
  probe_.applied.Increment(static_cast<double>(applied));
  tasks_.OffsetsMoved();
  session_.Committed();  // the next Redis failure backs off from the start
  if (aborted) Halt(tx);
  if (dead == 0) return;
  crash_hooks_.AfterCommit(dead);
  // The dead letters' outbox entries are committed: produce, wait for the acks, then delete them.
  std::vector<std::pair<std::string, int64_t>> acked;
  for (const auto& f : tx.refusals()) {
    f.part->applied_ts_ms = std::max(f.part->applied_ts_ms, msgs[f.msg_index].timestamp_ms());
    dlq_->SendCommitted(msgs[f.msg_index], f.category, f.reason);
    acked.emplace_back(f.part->outbox_key, f.offset);
  }
  for (const auto& rec : tx.records()) {
    if (!rec.failed) continue;
    dlq_->SendCommitted(msgs[rec.msg_index], "rejected", rec.error);
    if (rec.outboxed) {
      acked.emplace_back(rec.part->outbox_key, rec.offset);
    } else {
      probe_.outbox_unguarded.Increment();
      Logger("apply")->error(
          "exec-time rejection without an outbox entry (topic={} partition={} offset={}): its "
          "dead letter is produced now but a crash before the ack would lose it: {}",
          rec.part->topic, rec.part->partition, rec.offset, rec.error);
    }
  }
  if (!dlq_->AwaitAll(stop_)) {
    Logger("apply")->warn("stopped with dead letters unacknowledged: they stay in the outbox");
    return;
  }
  crash_hooks_.AfterAck(dead);
  outbox_.Acked(std::move(acked));
}

void Applier::Halt(const Transaction& tx) {
  // Positions are SET in the same MULTI as the script, after it: they committed past records
  // the script never ran. Moving them back in a second transaction would not be atomic with
  // this one (and the records after the script's run did run), so stop, loudly, and name them.
  std::map<std::pair<std::string, int32_t>, std::vector<int64_t>> offsets;
  std::string why;
  for (const auto& rec : tx.records()) {
    if (!rec.aborted) continue;
    offsets[{rec.part->topic, rec.part->partition}].push_back(rec.offset);
    why = rec.error;
  }
  std::string list;
  for (const auto& [tp, offs] : offsets) {
    list += fmt::format("{}topic={} partition={} offsets {}", list.empty() ? "" : "; ", tp.first,
                        tp.second, fmt::join(offs, ","));
  }
  Logger("apply")->error(
      "{} in a committed transaction: records {} may not have been applied (the first of each "
      "partition may be partly applied) although their positions moved past them. Stopping: "
      "nothing more is applied by this process, they are NOT dead-lettered. Apply them by hand "
      "(or move the position back with `walrus position`), then restart walrus apply",
      why, list);
  {
    std::lock_guard lock(status_mu_);
    halt_reason_ = fmt::format("stopped: records {} were not applied ({}); see the ERROR log",
                               list, why);
  }
  probe_.halted.Set(1);
  halted_.store(true);
}

void Applier::PollDiscarding() {
  PauseUnsynced();
  auto msgs = consumer_->PollBatch(cfg_.batch_max_ops, std::chrono::milliseconds(100));
  probe_.discarded.Increment(static_cast<double>(msgs.size()));
}

void Applier::FlushAckedOutbox() {
  if (!outbox_.has_acked() || !session_.connected() || inflight_.active()) return;
  Transaction tx;
  outbox_.ClearInto(tx);
  tx.BuildTail();
  for (const auto& hdel : tx.tail()) {
    auto r = session_.conn().Command(hdel);
    if (!r) {
      session_.Drop("deleting dead-letter outbox entries: " + r.error().message);
      return;
    }
  }
  outbox_.Cleared(tx);
}

bool Applier::DrainOutbox() {
  if (!inflight_.Settle() || !session_.connected()) return false;
  if (outbox_.failing()) {
    // Records were discarded meanwhile: re-read the positions and seek (Resync) first.
    if (outbox_.Waiting()) return false;
    if (!Resync()) {
      session_.Drop("resync before draining the dead-letter outbox failed");
      return false;
    }
  }
  std::vector<PartitionState*> parts;
  for (auto& [k, ps] : parts_) {
    if (ps.synced) parts.push_back(&ps);
  }
  Status st = outbox_.Drain([&](const OutboxDrain::Acked& known) {
    return outbox_drain_->Drain(session_.conn(), parts, known, stop_);
  });
  if (!st) {
    // Not a Redis failure: keep the connection (and the failover metrics) as they are; apply
    // nothing until a drain succeeds (the partitions are paused and resynced before the retry).
    for (auto& [k, ps] : parts_) ps.synced = false;
    return false;
  }
  return true;
}

void Applier::MaybeGc() {
  if (!gc_ || !session_.usable() || !gc_->Due()) return;
  inflight_.Settle();
  if (!session_.connected()) return;
  TxResult r = gc_->Step(session_.conn(), session_.epoch(), clock_.WallMs(), GcHorizonCap());
  if (r.outcome == TxOutcome::kStaleEpoch) {
    session_.RefuseStaleEpoch(r.detail);
  } else if (r.outcome != TxOutcome::kCommitted) {
    session_.Drop("gc sweep: " + r.detail);
  }
}

void Applier::MaybeCheckLogBounds() {
  if (!session_.usable() || !guard_.Due()) return;
  inflight_.Settle();  // the guard reads and writes on the connection
  if (!session_.connected()) return;
  std::vector<PartitionState*> all;
  for (auto& [k, ps] : parts_) all.push_back(&ps);
  if (auto st = guard_.Tick(session_.conn(), *consumer_, all); !st) {
    session_.Drop("checking held partitions: " + st.error().message);
  }
}

int64_t Applier::GcHorizonCap() const {
  // Kafka timestamps are the producers' clocks, as are the stamps' physical times; a stamp may
  // run ahead of its record's timestamp by the HLC drift guard (60 s), hence the margin.
  constexpr int64_t kMarginMs = 120000;
  if (!assigned_once_.load()) return 0;  // no idea of the backlog yet: postpone
  int64_t cap = std::numeric_limits<int64_t>::max();
  for (const auto& [k, ps] : parts_) {
    if (!ps.synced) return 0;  // not known yet: postpone
    const bool behind = ps.high_watermark < 0 || ps.high_watermark > std::max<int64_t>(ps.next, 0);
    if (behind) cap = std::min(cap, ps.applied_ts_ms < 0 ? 0 : ps.applied_ts_ms - kMarginMs);
  }
  return cap;
}

void Applier::MaybeCommitOffsets(bool force) {
  if (!tasks_.TakeCommit(force)) return;
  std::vector<kafka::TopicPartition> offsets;
  for (const auto& [k, ps] : parts_) {
    // A held partition's position is not in this log: committing it would fake a lag of 0.
    if (ps.synced && ps.next >= 0 && !ps.hold) offsets.push_back({ps.topic, ps.partition, ps.next});
  }
  if (!offsets.empty()) {
    if (auto st = consumer_->CommitAsync(offsets); !st) {
      WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 5000, "kafka offset commit: {}",
                          st.error().message);
    }
  }
}

void Applier::UpdateLag() {
  if (!tasks_.TakeLag()) return;
  for (auto& [k, ps] : parts_) {
    const prometheus::Labels labels{{"topic", ps.topic}, {"partition", std::to_string(ps.partition)}};
    auto wm = consumer_->Watermarks(ps.topic, ps.partition);
    if (wm) ps.high_watermark = wm->second;
    if (ps.next >= 0) probe_.position.Add(labels).Set(static_cast<double>(ps.next));
    if (ps.hold) {
      // The position is not in this log: no lag to tell (walrus_apply_gap_records does).
      if (probe_.lag.Has(labels)) probe_.lag.Remove(&probe_.lag.Add(labels));
    } else if (ps.high_watermark >= 0) {
      const int64_t lag = dataset::ApplierLag(ps.next, wm ? wm->first : 0, ps.high_watermark);
      probe_.lag.Add(labels).Set(static_cast<double>(lag));
    }
  }
}

}  // namespace walrus::apply
