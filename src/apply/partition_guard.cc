#include "apply/partition_guard.h"

#include <fmt/format.h>

#include <optional>

#include "core/clock.h"
#include "core/log.h"

namespace walrus::apply {
namespace {

int64_t SeekTarget(int64_t next, StartFrom start_from) {
  if (next >= 0) return next;
  return start_from == StartFrom::kEarliest ? kafka::kOffsetBeginning : kafka::kOffsetEnd;
}

Result<int64_t> ParsePosition(const redis::ReplyView& r, const std::string& key) {
  if (r.IsNil()) return int64_t{-1};
  try {
    size_t used = 0;
    const std::string s(r.str());
    const int64_t v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return Error(Errc::kInternal, fmt::format("corrupt position in {}: '{}'", key, r.str()));
}

// KEYS[1] position, KEYS[2] hold; ARGV[1] the position judged ("" none), ARGV[2] the hold JSON.
constexpr std::string_view kHoldIfPositionScript = R"(
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0
)";

// How far back KeepLostHold looks for the decision that lifted a hold.
constexpr int kDecisionsScanned = 1000;

}  // namespace

PartitionGuard::PartitionGuard(ApplyProbe& probe, Options o) : probe_(probe), opt_(o) {}

Result<std::pair<int64_t, int64_t>> PartitionGuard::Query(kafka::Consumer& consumer,
                                                          const PartitionState& ps) {
  return consumer.QueryWatermarks(ps.topic, ps.partition, opt_.query_timeout);
}

Status PartitionGuard::CheckAtSeek(redis::Connection& conn, kafka::Consumer& consumer,
                                   const std::vector<PartitionState*>& parts) {
  if (parts.empty()) return Status::Ok();
  auto log = Logger("apply");
  std::vector<std::string> argv{"MGET"};
  for (auto* ps : parts) argv.push_back(HoldKey(ps->topic, ps->partition));
  for (auto* ps : parts) argv.push_back(ClusterIdKey(ps->topic, ps->partition));
  auto r = conn.Command(argv);
  if (!r) return r.error();
  if (r->IsError()) return r->ToError();
  // Positions stored for another Kafka cluster mean nothing here, even inside the new log.
  std::vector<std::optional<std::string>> changed_from(parts.size());  // the cluster stored
  const std::string cluster = CurrentCluster(consumer);
  if (!cluster.empty()) {
    std::vector<PartitionState*> unset;
    for (size_t i = 0; i < parts.size(); ++i) {
      const auto stored = r->element(parts.size() + i);
      if (stored.IsNil()) {
        unset.push_back(parts[i]);
        conn.Append({"SET", ClusterIdKey(parts[i]->topic, parts[i]->partition), cluster, "NX"});
      } else if (stored.str() != cluster) {
        changed_from[i] = std::string(stored.str());
      }
    }
    if (!unset.empty()) {
      auto set = conn.ReadReplies(unset.size());
      if (!set) return set.error();
      for (const auto& x : *set) {
        if (x.IsError()) return x.ToError();
      }
      log->info("positions of {} partition(s) ({}[{}], ...) in this Redis refer to Kafka cluster "
                "'{}' ({})",
                unset.size(), unset[0]->topic, unset[0]->partition, cluster,
                ClusterIdKey(unset[0]->topic, unset[0]->partition));
    }
  }
  bool query_failed = false;  // one unreachable leader must not delay every partition
  for (size_t i = 0; i < parts.size(); ++i) {
    PartitionState& ps = *parts[i];
    ps.out_of_range_at = PartitionState::kNoPending;  // the seek discards a failed fetch
    const auto e = r->element(i);
    if (!e.IsNil()) {
      auto stored = PartitionHold::FromJson(e.str());
      if (!stored) {
        log->error("{}[{}]: unreadable hold in {} ({}): holding the partition anyway", ps.topic,
                   ps.partition, argv[i + 1], stored.error().message);
        stored = MakeHold(ps.topic, ps.partition, ps.next, -1, -1, WallNowMs());
      }
      if (auto st = Hold(conn, ps, std::move(*stored), /*stored=*/true); !st) return st;
      continue;
    }
    if (ps.hold) {
      auto kept = KeepLostHold(conn, ps, ps.next);
      if (!kept) return kept.error();
      if (*kept) continue;
      log->warn("{}[{}]: its hold was removed from Redis; checking position {} again",
                ps.topic, ps.partition, ps.next);
      Release(ps);
    }
    if (ps.next < 0) continue;
    auto wm = query_failed ? Result<std::pair<int64_t, int64_t>>(
                                 Error(Errc::kUnavailable, "an earlier query failed"))
                           : Query(consumer, ps);
    if (!wm && !query_failed) {
      query_failed = true;
      log->warn("{}[{}]: could not check position {} against the log ({}); a fetch out of "
                "range will still hold it",
                ps.topic, ps.partition, ps.next, wm.error().message);
    }
    // The offsets' verdict comes first (it has the numbers); a changed cluster holds even a
    // position inside the new log.
    const auto& from = changed_from[i];
    std::optional<PartitionHold> h;
    if (wm && ClassifyPosition(ps.next, wm->first, wm->second).verdict != Verdict::kInRange) {
      h = MakeHold(ps.topic, ps.partition, ps.next, wm->first, wm->second, WallNowMs());
    } else if (from) {
      h = MakeClusterHold(ps.topic, ps.partition, ps.next, wm ? wm->first : -1,
                          wm ? wm->second : -1, *from, cluster, WallNowMs());
    }
    if (h && from) {
      h->stored_cluster = *from;
      h->cluster = cluster;
    }
    if (h) {
      if (auto st = Hold(conn, ps, std::move(*h), /*stored=*/false); !st) return st;
    }
  }
  return Status::Ok();
}

bool PartitionGuard::OnConsumeError(const kafka::Message& msg, PartitionState* ps) {
  if (!msg.position_out_of_range()) return false;
  probe_.fetch_out_of_range.Increment();
  auto log = Logger("apply");
  if (ps == nullptr) {
    log->warn("kafka: fetch position {} of {}[{}] (not assigned here) is not in the log",
              msg.offset(), msg.topic(), msg.partition());
    return true;
  }
  if (ps->hold) return true;  // already held: the fetch of a held partition failed, as expected
  ps->out_of_range_at = msg.offset();
  work_ = true;
  log->warn("kafka: fetch position {} of {}[{}] is not in the log; not resetting it ({}), "
            "checking the log bounds",
            msg.offset(), ps->topic, ps->partition, msg.error().error().message);
  return true;
}

bool PartitionGuard::Due() const {
  if (work_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (retry_ && now >= next_retry_) return true;
  return held_ > 0 && now >= next_recheck_;
}

Status PartitionGuard::Tick(redis::Connection& conn, kafka::Consumer& consumer,
                            const std::vector<PartitionState*>& parts) {
  auto log = Logger("apply");
  work_ = false;
  retry_ = false;
  const auto now = std::chrono::steady_clock::now();
  std::vector<PartitionState*> held, pausing;
  std::vector<kafka::TopicPartition> to_pause;
  for (auto* ps : parts) {
    if (ps->out_of_range_at != PartitionState::kNoPending && ps->hold) {
      ps->out_of_range_at = PartitionState::kNoPending;
    }
    if (ps->out_of_range_at != PartitionState::kNoPending && ps->synced) {
      if (now < next_retry_) {
        retry_ = true;  // not work_: Due() stays false until the deadline
        continue;
      }
      auto wm = Query(consumer, *ps);
      if (!wm) {
        WALRUS_LOG_EVERY_MS(log, warn, 5000, "{}[{}]: could not read the log bounds: {}",
                            ps->topic, ps->partition, wm.error().message);
        next_retry_ = now + std::chrono::seconds(1);
        retry_ = true;
        continue;
      }
      const int64_t at = ps->out_of_range_at;
      ps->out_of_range_at = PartitionState::kNoPending;
      // The committed position decides: the fetch position may be past it by transaction
      // markers (a real broker), which is no loss.
      if (ClassifyPosition(ps->next, wm->first, wm->second).verdict != Verdict::kInRange) {
        auto h = MakeHold(ps->topic, ps->partition, ps->next, wm->first, wm->second, WallNowMs());
        if (auto st = Hold(conn, *ps, std::move(h), /*stored=*/false); !st) return st;
      } else {
        // No position stored (-1): where --start-from says, as at assignment; -1 itself would
        // be kOffsetEnd and skip the whole log.
        const int64_t to = SeekTarget(ps->next, opt_.start_from);
        log->warn("{}[{}]: fetch at {} was out of range, but the stored position {} is in the "
                  "log [{}, {}]: seeking to {} again",
                  ps->topic, ps->partition, at, ps->next, wm->first, wm->second,
                  ps->next >= 0 ? std::to_string(to)
                  : opt_.start_from == StartFrom::kEarliest ? std::string("the log start")
                                                            : std::string("the log end"));
        if (auto st = consumer.Seek({{ps->topic, ps->partition, to}}); !st) {
          return Error(Errc::kUnavailable, "seek after an out-of-range fetch: " +
                                               st.error().message);
        }
      }
    }
    if (ps->hold) {
      held.push_back(ps);
      if (!ps->paused) {
        to_pause.push_back({ps->topic, ps->partition, kafka::kOffsetInvalid});
        pausing.push_back(ps);
      }
    }
  }
  if (!to_pause.empty()) {
    if (auto st = consumer.Pause(to_pause); st) {
      for (auto* ps : pausing) ps->paused = true;
    } else {
      WALRUS_LOG_EVERY_MS(log, warn, 5000, "pausing held partitions: {}", st.error().message);
      work_ = true;
    }
  }
  if (!held.empty() && now >= next_recheck_) {
    next_recheck_ = now + opt_.recheck;
    return Recheck(conn, consumer, held);
  }
  return Status::Ok();
}

Status PartitionGuard::Recheck(redis::Connection& conn, kafka::Consumer& consumer,
                               const std::vector<PartitionState*>& held) {
  auto log = Logger("apply");
  std::vector<std::string> argv{"MGET"};
  for (auto* ps : held) argv.push_back(ps->pos_key);
  for (auto* ps : held) argv.push_back(HoldKey(ps->topic, ps->partition));
  auto r = conn.Command(argv);
  if (!r) return r.error();
  if (r->IsError()) return r->ToError();
  std::vector<kafka::TopicPartition> resume, seeks;
  std::vector<PartitionState*> released;
  for (size_t i = 0; i < held.size(); ++i) {
    PartitionState& ps = *held[i];
    const auto hold_reply = r->element(held.size() + i);
    if (!hold_reply.IsNil()) {
      // Still held. A hold rewritten by hand is taken as it is now.
      if (auto stored = PartitionHold::FromJson(hold_reply.str());
          stored && (stored->position != ps.hold->position || stored->reason != ps.hold->reason)) {
        if (auto st = Hold(conn, ps, std::move(*stored), /*stored=*/true); !st) return st;
      }
      continue;
    }
    auto pos = ParsePosition(r->element(i), ps.pos_key);
    if (!pos) return pos.error();
    auto kept = KeepLostHold(conn, ps, *pos);
    if (!kept) return kept.error();
    if (*kept) continue;
    const PartitionHold was = *ps.hold;
    if (*pos >= 0) {
      auto wm = Query(consumer, ps);
      if (!wm) {
        WALRUS_LOG_EVERY_MS(log, warn, 5000, "{}[{}]: could not read the log bounds: {}",
                            ps.topic, ps.partition, wm.error().message);
        continue;
      }
      if (ClassifyPosition(*pos, wm->first, wm->second).verdict != Verdict::kInRange) {
        log->error("{}[{}]: the hold was lifted but position {} is still outside the log [{}, {}]",
                   ps.topic, ps.partition, *pos, wm->first, wm->second);
        ps.next = *pos;
        auto h = MakeHold(ps.topic, ps.partition, *pos, wm->first, wm->second, WallNowMs());
        if (auto st = Hold(conn, ps, std::move(h), /*stored=*/false); !st) return st;
        continue;
      }
      log->warn("{}[{}]: hold lifted by an operator decision (see {}): position {} (held at {}), "
                "log [{}, {}]; applying from there",
                ps.topic, ps.partition, kDecisionsKey, *pos, was.position, wm->first, wm->second);
    } else {
      log->warn("{}[{}]: hold lifted by an operator decision (see {}): no position stored (held "
                "at {}); starting from the {} of the log",
                ps.topic, ps.partition, kDecisionsKey, was.position,
                opt_.start_from == StartFrom::kEarliest ? "start" : "end");
    }
    ps.next = *pos;
    Release(ps);
    released.push_back(&ps);
    const int64_t to = SeekTarget(ps.next, opt_.start_from);
    seeks.push_back({ps.topic, ps.partition, to});
    if (ps.paused) resume.push_back({ps.topic, ps.partition, to});
  }
  if (released.empty()) return Status::Ok();
  // Resume before seeking, as Applier::Resync does (librdkafka 2.0 delays fetching a partition
  // sought while paused).
  if (auto st = consumer.Resume(resume); !st) {
    return Error(Errc::kUnavailable, "resume after a hold: " + st.error().message);
  }
  for (auto* ps : released) ps->paused = false;
  if (auto st = consumer.Seek(seeks); !st) {
    return Error(Errc::kUnavailable, "seek after a hold: " + st.error().message);
  }
  return Status::Ok();
}

Result<bool> PartitionGuard::KeepLostHold(redis::Connection& conn, PartitionState& ps,
                                          int64_t pos) {
  // A decision always records the hold it lifted in kDecisionsKey; it changes the position too,
  // except when the new one happens to equal the held one. So: position changed => decided;
  // same position => decided only if a decision names this very hold.
  if (!ps.hold || pos != ps.hold->position) return false;
  auto r = conn.Command({"XREVRANGE", kDecisionsKey, "+", "-", "COUNT",
                         std::to_string(kDecisionsScanned)});
  if (!r) return r.error();
  if (r->IsError()) return r->ToError();
  const std::string part = std::to_string(ps.partition);
  for (size_t i = 0; i < r->size(); ++i) {
    if (r->element(i).size() != 2) continue;
    const auto fields = r->element(i).element(1);
    std::string_view topic, partition, hold;
    for (size_t f = 0; f + 1 < fields.size(); f += 2) {
      const auto name = fields.element(f).str();
      if (name == "topic") topic = fields.element(f + 1).str();
      if (name == "partition") partition = fields.element(f + 1).str();
      if (name == "hold") hold = fields.element(f + 1).str();
    }
    if (topic != ps.topic || partition != part || hold.empty()) continue;
    auto h = PartitionHold::FromJson(hold);
    if (h && h->position == ps.hold->position && h->reason == ps.hold->reason &&
        h->since_ms == ps.hold->since_ms) {
      return false;  // decided
    }
  }
  Logger("apply")->error(
      "{}[{}]: its hold key {} vanished, but the position is still the held {} and {} names no "
      "decision about this hold (the hold lost in a Redis failover?): holding it again",
      ps.topic, ps.partition, HoldKey(ps.topic, ps.partition), pos, kDecisionsKey);
  probe_.lost_holds.Increment();
  ps.next = pos;
  if (auto st = Hold(conn, ps, *ps.hold, /*stored=*/false); !st) return st.error();
  return true;
}

std::string PartitionGuard::CurrentCluster(kafka::Consumer& consumer) {
  auto id = consumer.ClusterId(opt_.query_timeout);
  if (id && !id->empty()) {
    cluster_ = *id;
  } else if (cluster_.empty()) {
    WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 10000,
                        "cannot tell whether the Kafka cluster changed: {}",
                        id ? std::string("empty cluster id") : id.error().message);
  }
  return cluster_;
}

Status PartitionGuard::Hold(redis::Connection& conn, PartitionState& ps, PartitionHold h,
                            bool stored) {
  if (!stored) {
    // Only while the position is still the one judged (ps.next): an operator decision made
    // meanwhile rewrote it and deleted the hold key, and must not be undone.
    const std::string expect = ps.next >= 0 ? std::to_string(ps.next) : std::string();
    auto r = conn.Command({"EVAL", kHoldIfPositionScript, "2", ps.pos_key,
                           HoldKey(ps.topic, ps.partition), expect, h.ToJson()});
    if (!r) return r.error();
    if (r->IsError()) return r->ToError();
    if (r->integer() != 1) {
      Logger("apply")->warn("{}[{}]: its position in Redis is no longer {} (an operator decision "
                            "meanwhile?): not holding it, reading the positions again",
                            ps.topic, ps.partition, expect.empty() ? "none" : expect);
      return Error(Errc::kConflict, fmt::format("position of {}[{}] changed while holding it",
                                                ps.topic, ps.partition));
    }
  }
  const bool fresh =
      !ps.hold || ps.hold->position != h.position || ps.hold->reason != h.reason;
  if (ps.hold && ps.hold->reason != h.reason) Unpublish(ps.topic, ps.partition);
  ps.hold = std::move(h);
  work_ = true;  // Tick pauses it
  Publish(*ps.hold);
  if (fresh) {
    probe_.Holds(std::string(VerdictName(ps.hold->reason))).Increment();
    Logger("apply")->error(
        "partition {}{}; nothing of it is applied until an operator decides: `walrus position "
        "--topic {} --partition {} (--reset-to-log-start | --accept-gap | --reset-to OFFSET) "
        "--reason TEXT` (docs/log-gaps.md)",
        ps.hold->Describe(), stored ? " (hold stored in Redis)" : "", ps.topic, ps.partition);
  }
  return Status::Ok();
}

void PartitionGuard::Release(PartitionState& ps) {
  ps.hold.reset();
  probe_.hold_releases.Increment();
  Unpublish(ps.topic, ps.partition);
}

void PartitionGuard::Publish(const PartitionHold& h) {
  const std::string part = std::to_string(h.partition);
  probe_.held.Add({{"topic", h.topic}, {"partition", part}, {"reason", std::string(VerdictName(h.reason))}})
      .Set(1);
  probe_.gap_records.Add({{"topic", h.topic}, {"partition", part}})
      .Set(static_cast<double>(h.count));
  std::lock_guard lock(mu_);
  summary_[Key(h.topic, h.partition)] = h.Describe();
  held_ = summary_.size();
}

void PartitionGuard::Unpublish(const std::string& topic, int32_t partition) {
  const std::string part = std::to_string(partition);
  for (Verdict v : {Verdict::kBeyondEnd, Verdict::kRetentionGap, Verdict::kClusterChanged}) {
    const prometheus::Labels l{
        {"topic", topic}, {"partition", part}, {"reason", std::string(VerdictName(v))}};
    probe_.held.Remove(&probe_.held.Add(l));
  }
  probe_.gap_records.Remove(&probe_.gap_records.Add({{"topic", topic}, {"partition", part}}));
  std::lock_guard lock(mu_);
  summary_.erase(Key(topic, partition));
  held_ = summary_.size();
}

void PartitionGuard::Forget(const PartitionState& ps) {
  if (ps.hold) Unpublish(ps.topic, ps.partition);
}

std::string PartitionGuard::HeldSummary() const {
  std::lock_guard lock(mu_);
  if (summary_.empty()) return "";
  std::string out = fmt::format("{} partition(s) held, an operator must decide (docs/log-gaps.md):",
                                summary_.size());
  for (const auto& [k, s] : summary_) out += " " + s + ";";
  out.pop_back();
  return out;
}

}  // namespace walrus::apply
