#include "apply/outbox_drain.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include "apply/outbox.h"
#include "core/log.h"
#include "core/planner.h"
#include "kafka/assign_consumer.h"
#include "protocol/headers.h"

namespace walrus::apply {
namespace {

constexpr auto kKafkaTimeout = std::chrono::seconds(10);

std::optional<int64_t> ToInt(std::optional<std::string_view> s) {
  if (!s) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
  return v;
}

// Reads `tp`s from their offsets up to `ends` (exclusive), handing each record to `fn`.
template <typename Fn>
Status ReadRanges(kafka::AssignConsumer& c, const std::vector<kafka::TopicPartition>& tps,
                  const std::map<int32_t, int64_t>& ends, const std::atomic<bool>& stop, Fn fn) {
  if (tps.empty()) return Status::Ok();
  if (auto st = c.Assign(tps); !st) return st;
  std::map<int32_t, int64_t> next;
  for (const auto& tp : tps) next[tp.partition] = tp.offset;
  // No fixed total deadline (a large backlog may take long): fail only when nothing new arrives.
  auto deadline = std::chrono::steady_clock::now() + OutboxDrain::kNoProgress;
  auto done = [&] {
    for (const auto& [p, end] : ends) {
      if (next[p] < end && c.Position(tps.front().topic, p) < end) return false;
    }
    return true;
  };
  while (!done()) {
    if (stop.load()) return Error(Errc::kUnavailable, "stopping");
    if (std::chrono::steady_clock::now() > deadline) {
      return Error(Errc::kTimeout,
                   fmt::format("reading {}: no progress for {} s", tps.front().topic,
                               OutboxDrain::kNoProgress.count()));
    }
    for (auto& m : c.PollBatch(1000, std::chrono::milliseconds(200))) {
      if (!m.error()) {
        WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 5000, "dead-letter outbox scan: {}",
                            m.error().error().message);
        continue;
      }
      auto it = ends.find(m.partition());
      if (it == ends.end() || m.offset() >= it->second) continue;
      next[m.partition()] = std::max(next[m.partition()], m.offset() + 1);
      deadline = std::chrono::steady_clock::now() + OutboxDrain::kNoProgress;
      fn(m);
    }
  }
  return Status::Ok();
}

}  // namespace

OutboxDrain::OutboxDrain(kafka::Properties props, std::shared_ptr<kafka::Producer> producer,
                         DeadLetterSink& dlq, DeadLetterSink::TopicFor dlq_topic_for,
                         ApplyProbe& probe, std::string group)
    : props_(std::move(props)),
      producer_(std::move(producer)),
      dlq_(dlq),
      dlq_topic_for_(std::move(dlq_topic_for)),
      probe_(probe),
      group_(std::move(group)) {}

Result<OutboxDrain::DlqIndex> OutboxDrain::ScanDlq(const std::string& dlq, int64_t since_ms,
                                                   const std::atomic<bool>& stop) {
  DlqIndex found;
  auto n = producer_->PartitionCount(dlq, kKafkaTimeout);
  if (!n) {
    if (n.error().Is(Errc::kNotFound)) return found;  // no DLQ topic yet: nothing in it
    return n.error();
  }
  auto c = kafka::AssignConsumer::Create(props_);
  if (!c) return c.error();
  std::vector<kafka::TopicPartition> tps;
  std::map<int32_t, int64_t> ends;
  for (int32_t p = 0; p < *n; ++p) {
    auto wm = (*c)->QueryWatermarks(dlq, p, kKafkaTimeout);
    if (!wm) return wm.error();
    if (wm->second <= wm->first) continue;
    int64_t start = wm->first;
    auto at = (*c)->OffsetForTime(dlq, p, since_ms, kKafkaTimeout);
    if (at && *at >= 0) {
      start = std::max(start, *at);
    } else if (at) {
      // -1: no record that recent, or a broker that cannot look timestamps up. A real broker
      // answers the first offset for timestamp 0; the mock answers -1 again.
      auto probe = (*c)->OffsetForTime(dlq, p, 0, kKafkaTimeout);
      if (probe && *probe >= 0) {
        start = wm->second;
      } else {
        Logger("apply")->info(
            "dead-letter outbox: {}[{}] cannot be searched by time; scanning offsets {}..{}", dlq,
            p, wm->first, wm->second);
      }
    }
    if (start >= wm->second) continue;
    tps.push_back({dlq, p, start});
    ends[p] = wm->second;
  }
  auto st = ReadRanges(**c, tps, ends, stop, [&](const kafka::Message& m) {
    // Another group's dead letter (or one without the header: an older walrus) is not ours: at
    // worst ours is produced a second time, never dropped.
    if (m.header(protocol::kDlqGroupHeader) != std::optional<std::string_view>(group_)) return;
    auto topic = m.header(protocol::kSrcTopicHeader);
    auto part = ToInt(m.header(protocol::kSrcPartitionHeader));
    auto off = ToInt(m.header(protocol::kSrcOffsetHeader));
    auto ts = ToInt(m.header(protocol::kSrcTimestampHeader));
    if (!topic || !part || !off || !ts) return;
    found.exact.emplace(std::string(*topic), static_cast<int32_t>(*part), *off, *ts);
    found.coords.emplace(std::string(*topic), static_cast<int32_t>(*part), *off);
  });
  if (!st) return st.error();
  return found;
}

Status OutboxDrain::Drain(redis::Connection& conn, const std::vector<PartitionState*>& parts,
                          const Acked& acked, const std::atomic<bool>& stop) {
  if (parts.empty()) return Status::Ok();
  for (auto* ps : parts) {
    if (ps->outbox_key.empty()) ps->outbox_key = OutboxKey(ps->topic, ps->partition);
    conn.Append({"HGETALL", ps->outbox_key});
  }
  auto replies = conn.ReadReplies(parts.size());
  if (!replies) return replies.error();
  struct Work {
    PartitionState* part;
    std::vector<OutboxEntry> entries;
    std::vector<const OutboxEntry*> todo;  // not known to be in the DLQ
    std::map<int64_t, kafka::Message> originals;
    int64_t log_start = 0, log_end = 0;
  };
  // Declared before `work`: the Messages in Work::originals must be destroyed before their
  // consumers (a consumer's destructor waits for them).
  std::vector<std::unique_ptr<kafka::AssignConsumer>> readers;
  std::vector<Work> work;
  size_t produced = 0, already = 0, gone = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& r = (*replies)[i];
    if (r.IsError()) return r.ToError();
    if (r.size() == 0) continue;
    Work w{parts[i], {}, {}, {}};
    for (size_t j = 0; j + 1 < r.size(); j += 2) {
      auto e = DecodeOutboxEntry(r.element(j).str(), r.element(j + 1).str());
      if (!e) {
        Logger("apply")->error("dead-letter outbox {}: unreadable entry '{}' = '{}' left alone",
                               parts[i]->outbox_key, r.element(j).str(), r.element(j + 1).str());
        continue;
      }
      w.entries.push_back(std::move(*e));
    }
    if (w.entries.empty()) continue;
    std::sort(w.entries.begin(), w.entries.end(),
              [](const auto& a, const auto& b) { return a.offset < b.offset; });
    Logger("apply")->warn("dead-letter outbox {}: {} entries left by an earlier run (offsets {}..{})",
                          w.part->outbox_key, w.entries.size(), w.entries.front().offset,
                          w.entries.back().offset);
    work.push_back(std::move(w));
  }
  if (work.empty()) return Status::Ok();

  // Entries acknowledged to this process are only deleted; the others' originals are re-read
  // (the Messages must not outlive their consumers: `readers` keeps them).
  std::map<std::string, int64_t> since;  // DLQ topic -> oldest wall time of an entry to look up
  for (auto& w : work) {
    for (const auto& e : w.entries) {
      if (acked.count({w.part->outbox_key, e.offset})) {
        ++already;
        Logger("apply")->info(
            "dead-letter outbox: {}[{}] offset {} was acknowledged to this process: not produced "
            "again", w.part->topic, w.part->partition, e.offset);
      } else {
        w.todo.push_back(&e);
      }
    }
    if (w.todo.empty()) continue;
    const std::string dlq = dlq_topic_for_(w.part->topic);
    int64_t oldest = w.todo.front()->wall_ms;
    for (const auto* e : w.todo) oldest = std::min(oldest, e->wall_ms);
    auto [it, fresh] = since.emplace(dlq, oldest);
    if (!fresh) it->second = std::min(it->second, oldest);
    auto c = kafka::AssignConsumer::Create(props_);
    if (!c) return c.error();
    auto wm = (*c)->QueryWatermarks(w.part->topic, w.part->partition, kKafkaTimeout);
    if (!wm) return wm.error();
    w.log_start = wm->first;
    w.log_end = wm->second;
    const int64_t from = std::max(w.todo.front()->offset, wm->first);
    const int64_t to = std::min(w.todo.back()->offset + 1, wm->second);
    if (from < to) {
      auto st = ReadRanges(**c, {{w.part->topic, w.part->partition, from}},
                           {{w.part->partition, to}}, stop, [&](kafka::Message& m) {
                             for (auto* e : w.todo) {
                               if (e->offset == m.offset()) {
                                 w.originals.emplace(m.offset(), std::move(m));
                                 break;
                               }
                             }
                           });
      if (!st) return st;
    }
    readers.push_back(std::move(*c));
  }

  std::map<std::string, DlqIndex> in_dlq;
  for (const auto& [dlq, oldest] : since) {
    auto found = ScanDlq(dlq, oldest - kClockMargin.count(), stop);
    if (!found) return found.error();
    in_dlq[dlq] = std::move(*found);
  }

  for (auto& w : work) {
    const auto& topic = w.part->topic;
    const int32_t partition = w.part->partition;
    const auto& found = in_dlq[dlq_topic_for_(topic)];
    for (const auto* e : w.todo) {
      auto it = w.originals.find(e->offset);
      const bool have = it != w.originals.end();
      // With the source record, its timestamp tells a recreated topic's record apart; without
      // it (retention) only the coordinates are left to compare.
      const bool in = have ? found.exact.count({topic, partition, e->offset,
                                                it->second.timestamp_ms()}) > 0
                           : found.coords.count({topic, partition, e->offset}) > 0;
      if (in) {
        ++already;
        Logger("apply")->info(
            "dead-letter outbox: {}[{}] offset {} is already in the DLQ: not produced again", topic,
            partition, e->offset);
        continue;
      }
      std::string why;
      if (!have) {
        ++gone;
        why = e->offset < w.log_start
                  ? fmt::format("deleted from the source log (its start is now offset {})",
                                w.log_start)
                  : fmt::format("not in the source log (log offsets {}..{})", w.log_start,
                                w.log_end);
      }
      dlq_.SendRecovered(topic, partition, e->offset, e->category, e->reason,
                         have ? &it->second : nullptr, why);
      ++produced;
    }
  }
  if (!dlq_.AwaitAll(stop)) return Error(Errc::kUnavailable, "stopped before the DLQ acknowledged");

  for (const auto& w : work) {
    Argv hdel{"HDEL", w.part->outbox_key};
    for (const auto& e : w.entries) hdel.push_back(std::to_string(e.offset));
    auto r = conn.Command(hdel);
    if (!r) return r.error();
    if (r->IsError()) return r->ToError();
  }
  probe_.outbox_recovered.Add({{"result", "produced"}}).Increment(static_cast<double>(produced));
  probe_.outbox_recovered.Add({{"result", "body_missing"}}).Increment(static_cast<double>(gone));
  probe_.outbox_recovered.Add({{"result", "already_in_dlq"}})
      .Increment(static_cast<double>(already));
  Logger("apply")->warn(
      "dead-letter outbox drained: {} produced ({} without their original record), {} already in "
      "the DLQ",
      produced, gone, already);
  return Status::Ok();
}

}  // namespace walrus::apply
