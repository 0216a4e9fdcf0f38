#include "mirror/flow.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "kafka/admin.h"
#include "kafka/assign_consumer.h"
#include "kafka/producer.h"
#include "mirror/position_store.h"
#include "mirror/record_copy.h"

namespace walrus::mirror {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr milliseconds kAdminTimeout{10000};
constexpr milliseconds kTxTimeout{60000};

}  // namespace

// One source partition being copied.
struct PartState {
  std::string topic;
  int32_t partition = 0;
  std::string target_topic;
  int64_t consumed_next = -1;  // after the last record taken from the source (copied or skipped)
  int64_t acked_next = -1;     // after the last record the target acknowledged
  int64_t inflight = 0;        // produced, not yet acknowledged or failed
  int64_t committed = -1;      // position last written to the target
  int64_t last_ts = 0;         // create time of the last record taken
  PartitionGauges* gauges = nullptr;
  Flow::Shared* owner = nullptr;  // for delivery callbacks (its mutex guards the fields above)

  // Where a restart may resume without losing anything acknowledged so far.
  int64_t Committable() const { return inflight == 0 ? consumed_next : acked_next; }
};

struct Flow::Shared {
  explicit Shared(MirrorProbe& p) : probe(p) {}
  MirrorProbe& probe;
  std::mutex mu;
  std::vector<PartState> parts;
  bool failed = false;
  std::string failure;
};

Flow::Flow(FlowConfig cfg, MirrorProbe& probe, const std::atomic<bool>& stop)
    : cfg_(std::move(cfg)), probe_(probe), stop_(stop) {}

std::string Flow::Detail() const {
  std::lock_guard lock(detail_mu_);
  return detail_;
}

void Flow::SetDetail(std::string d) {
  std::lock_guard lock(detail_mu_);
  detail_ = std::move(d);
}

void Flow::Run() {
  auto log = Logger("mirror");
  milliseconds backoff{250};
  while (!stop_.load()) {
    const auto started = Clock::now();
    Status s = RunOnce();
    ready_ = false;
    const std::string msg = s.ok() ? "stopped" : s.error().message;
    if (fatal_.load()) {  // before the stop check: the command stops everything on a fatal error
      log->error("flow {}: {} (not retrying)", cfg_.Name(), msg);
      SetDetail("fatal: " + msg);
      return;
    }
    if (stop_.load()) break;
    probe_.restarts.Increment();
    if (Clock::now() - started > std::chrono::seconds(30)) backoff = milliseconds(250);
    log->warn("flow {}: {}; restarting from the positions in the target in {} ms", cfg_.Name(),
              msg, backoff.count());
    SetDetail("restarting: " + msg);
    for (auto until = Clock::now() + backoff; Clock::now() < until && !stop_.load();) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
  SetDetail("stopped");
}

Status Flow::RunOnce() {
  auto log = Logger("mirror");
  const std::string name = cfg_.Name();
  // Outlives the producer below, whose destructor may still run delivery callbacks.
  auto shared = std::make_shared<Shared>(probe_);
  // 1. The target producer. A transactional one first fences a previous instance of this flow
  //    (aborting its open transaction) before we read the positions back.
  // Latency-oriented defaults (override with --target-X): records leave within ~1 ms.
  kafka::Properties pprops = {{"linger.ms", "1"}, {"reconnect.backoff.max.ms", "1000"}};
  if (cfg_.transactions) {
    pprops.insert(pprops.end(), {{"transactional.id", "walrus-mirror." + cfg_.source_alias + "." +
                                                          cfg_.target_alias},
                                 {"transaction.timeout.ms", "60000"},
                                 {"message.timeout.ms", "60000"}});
  } else {
    // Never give up on a record (a target outage just waits); never leave a gap.
    pprops.insert(pprops.end(), {{"message.timeout.ms", "0"}, {"enable.gapless.guarantee", "true"}});
  }
  // User properties (and bootstrap.servers) after our defaults, so they win.
  pprops.insert(pprops.end(), cfg_.target_props.begin(), cfg_.target_props.end());
  auto producer = kafka::Producer::Create(pprops);
  if (!producer) return producer.error();
  if (cfg_.transactions) {
    if (Status s = (*producer)->InitTransactions(kTxTimeout); !s.ok()) return s;
  }
  auto prod_warmup = [&](const std::string& topic) {
    return (*producer)->PartitionCount(topic, kAdminTimeout);
  };
  // 2. Topics.
  auto src_topics = kafka::ListTopics(cfg_.source_props, kAdminTimeout);
  if (!src_topics) return src_topics.error();
  auto dst_topics = kafka::ListTopics(cfg_.target_props, kAdminTimeout);
  if (!dst_topics) return dst_topics.error();
  std::map<std::string, int32_t> dst_parts;
  for (const auto& t : *dst_topics) dst_parts[t.name] = t.partitions;
  for (const auto& t : *src_topics) {
    if (t.name == kOffsetsTopic || t.name == kHeartbeatsTopic || !cfg_.Selects(t.name)) continue;
    const std::string target = cfg_.TargetTopic(t.name);
    auto it = dst_parts.find(target);
    if (it == dst_parts.end()) {
      Status c = kafka::CreateTopics(cfg_.target_props, {{target, t.partitions}}, kAdminTimeout);
      auto again = c.ok() ? kafka::ListTopics(cfg_.target_props, kAdminTimeout) : c.error();
      int32_t n = 0;
      if (again) {
        for (const auto& d : *again) n = d.name == target ? d.partitions : n;
      }
      if (n == 0) {
        fatal_ = true;
        return Error(Errc::kNotFound,
                     fmt::format("target topic '{}' is missing in {} and could not be created ({}); "
                                 "create it with {} partitions (on devkafka: --topic {}:{})",
                                 target, cfg_.target_alias,
                                 c.ok() ? "not visible after creation" : c.error().message,
                                 t.partitions, target, t.partitions));
      }
      it = dst_parts.emplace(target, n).first;
      log->info("flow {}: created target topic {} with {} partitions", name, target, n);
    }
    if (it->second < t.partitions) {
      fatal_ = true;
      return Error(Errc::kInvalidArgument,
                   fmt::format("target topic '{}' in {} has {} partitions, fewer than the {} of "
                               "source topic '{}' in {}: refusing (partition numbers are kept)",
                               target, cfg_.target_alias, it->second, t.partitions, t.name,
                               cfg_.source_alias));
    }
    for (int32_t p = 0; p < t.partitions; ++p) {
      PartState ps;
      ps.topic = t.name;
      ps.partition = p;
      ps.target_topic = target;
      ps.gauges = &probe_.Partition(t.name, p);
      ps.owner = shared.get();
      shared->parts.push_back(std::move(ps));
    }
  }
  if (shared->parts.empty()) {
    return Error(Errc::kNotFound, fmt::format("no topic in {} matches {}", cfg_.source_alias,
                                              fmt::join(cfg_.topics, ",")));
  }
  // The producer learns the target topics' metadata now rather than on its first record.
  (void)prod_warmup(shared->parts.front().target_topic);
  // 3. Positions, from the target.
  auto positions = ReadPositions(cfg_.target_props, std::chrono::seconds(30));
  if (!positions) return positions.error();
  std::vector<kafka::TopicPartition> assign;
  std::unordered_map<std::string, std::vector<int>> index;  // topic -> partition -> parts index
  for (size_t i = 0; i < shared->parts.size(); ++i) {
    auto& ps = shared->parts[i];
    auto pos = positions->find(PositionKey(cfg_.source_alias, ps.topic, ps.partition));
    const int64_t start = pos == positions->end() ? kafka::kOffsetBeginning : pos->second;
    if (pos != positions->end()) ps.consumed_next = ps.acked_next = ps.committed = start;
    assign.push_back({ps.topic, ps.partition, start});
    auto& v = index[ps.topic];
    if (v.size() <= static_cast<size_t>(ps.partition)) v.resize(ps.partition + 1, -1);
    v[ps.partition] = static_cast<int>(i);
  }
  // A short fetch.wait.max.ms: on the mock cluster, 20 -> 2 ms (with linger 5 -> 1 ms) cut the
  // DC -> DR Redis p50 from 24 to 9 ms (bench/mirror_bench.py). Raise it with --source-X.
  kafka::Properties cprops = {{"fetch.wait.max.ms", "5"}, {"isolation.level", "read_committed"},
                              {"reconnect.backoff.max.ms", "1000"},
                              {"queued.min.messages", "1000000"},
                              {"queued.max.messages.kbytes", "131072"},
                              // librdkafka 2.0 backs a partition off by this much when its fetch
                              // queue is full (500 ms by default): stalls a fast mirror.
                              {"fetch.error.backoff.ms", "20"}};
  cprops.insert(cprops.end(), cfg_.source_props.begin(), cfg_.source_props.end());
  auto consumer = kafka::AssignConsumer::Create(cprops);
  if (!consumer) return consumer.error();
  if (Status s = (*consumer)->Assign(assign); !s.ok()) return s;
  log->info("flow {}: copying {} partitions ({} with a stored position) into {}", name,
            assign.size(), positions->size(), cfg_.target_alias);

  // 4. Copy.
  bool in_tx = false;
  auto last_commit = Clock::now();
  // While the source has a backlog (full batches), commits are spaced to >= 10x their own cost,
  // so a transaction's flush + commit takes at most ~10% of the time; otherwise commit_interval.
  milliseconds commit_cost{0};
  bool backlog = false;
  auto last_hb = Clock::now() - cfg_.heartbeat_interval;
  auto last_stats = Clock::now();
  double last_records = probe_.records.Value(), last_bytes = probe_.bytes.Value();
  auto& prod = **producer;
  auto deliver_pos_cb = [shared](const kafka::DeliveryReport& r) {
    if (r.status.ok()) return;
    std::lock_guard lock(shared->mu);
    shared->failed = true;
    shared->failure = "position record: " + r.status.error().message;
  };
  auto commit = [&](bool final) -> Status {
    const auto now = Clock::now();
    const bool hb_due = now - last_hb >= cfg_.heartbeat_interval;
    if (cfg_.transactions) {
      if (!in_tx && !hb_due) return Status::Ok();
      if (!in_tx) {
        if (Status s = prod.BeginTransaction(); !s.ok()) return s;
        in_tx = true;
      }
      // Records first, acknowledged; then their positions, in the same transaction.
      if (Status s = prod.Flush(kTxTimeout); !s.ok()) return s;
    } else if (final) {
      (void)prod.Flush(std::chrono::seconds(10));  // what is still in flight stays uncommitted
    }
    std::vector<std::pair<size_t, int64_t>> moved;
    {
      std::lock_guard lock(shared->mu);
      if (shared->failed) return Error(Errc::kUnavailable, shared->failure);
      for (size_t i = 0; i < shared->parts.size(); ++i) {
        const int64_t c = shared->parts[i].Committable();
        if (c > shared->parts[i].committed) moved.emplace_back(i, c);
      }
    }
    for (auto [i, c] : moved) {
      const auto& ps = shared->parts[i];
      kafka::OutRecord rec{.topic = kOffsetsTopic,
                           .key = PositionKey(cfg_.source_alias, ps.topic, ps.partition),
                           .value = std::to_string(c)};
      if (Status s = prod.Produce(std::move(rec), deliver_pos_cb); !s.ok()) return s;
    }
    if (hb_due) {
      kafka::OutRecord hb{.topic = kHeartbeatsTopic, .key = name, .value = std::to_string(WallMs())};
      if (Status s = prod.Produce(std::move(hb), deliver_pos_cb); !s.ok()) return s;
      last_hb = now;
    }
    if (cfg_.transactions) {
      if (Status s = prod.CommitTransaction(kTxTimeout); !s.ok()) {
        (void)prod.AbortTransaction(kTxTimeout);
        return s;
      }
      in_tx = false;
    } else if (final) {
      if (Status s = prod.Flush(std::chrono::seconds(10)); !s.ok()) return s;
    }
    {
      std::lock_guard lock(shared->mu);
      for (auto [i, c] : moved) {
        shared->parts[i].committed = c;
        shared->parts[i].gauges->position->Set(static_cast<double>(c));
      }
    }
    if (!moved.empty()) probe_.commits.Increment();
    last_commit = now;
    return Status::Ok();
  };

  // Warm-up: one commit (heartbeat + a "<src>:<dst>/started" marker in the offsets topic) before
  // the first record, so the producer's first transaction and its metadata for the offsets and
  // heartbeat topics (~1 s on a new producer) are paid before copying, not in its middle.
  {
    kafka::OutRecord marker{.topic = kOffsetsTopic,
                            .key = name + "/started",
                            .value = std::to_string(WallMs())};
    if (cfg_.transactions) {
      if (Status s = prod.BeginTransaction(); !s.ok()) return s;
      in_tx = true;
    }
    if (Status s = prod.Produce(std::move(marker), deliver_pos_cb); !s.ok()) return s;
    if (Status s = commit(false); !s.ok()) return s;
    if (!cfg_.transactions) (void)prod.Flush(kAdminTimeout);
  }
  ready_ = true;
  SetDetail(fmt::format("copying {} partitions", assign.size()));

  std::string_view last_topic;  // points into `index`
  const std::vector<int>* last_parts = nullptr;
  while (!stop_.load()) {
    auto msgs = (*consumer)->PollBatch(cfg_.batch_max, milliseconds(50));
    for (auto& m : msgs) {
      if (Status e = m.error(); !e.ok()) {
        if (Status f = (*consumer)->FatalError(); !f.ok()) return f;
        WALRUS_LOG_EVERY_MS(log, warn, 2000, "flow {}: source: {}", name, e.error().message);
        continue;
      }
      if (m.topic() != last_topic) {  // one lookup per run of records of a topic
        auto it = index.find(std::string(m.topic()));
        if (it == index.end()) continue;
        last_topic = it->first;
        last_parts = &it->second;
      }
      if (m.partition() >= static_cast<int32_t>(last_parts->size())) continue;
      const int idx = (*last_parts)[m.partition()];
      if (idx < 0) continue;
      PartState& ps = shared->parts[idx];
      const int64_t off = m.offset();
      std::vector<kafka::Header> headers = m.headers();
      headers.reserve(headers.size() + 1);
      if (LoopsBack(headers, cfg_.target_alias)) {
        std::lock_guard lock(shared->mu);
        ps.consumed_next = off + 1;
        probe_.skipped_loop.Increment();
        continue;
      }
      headers.push_back({kSrcHeader, SrcHeaderValue(cfg_.source_alias, ps.topic, ps.partition, off)});
      const int64_t ts = m.timestamp_ms();
      const auto key = m.key();
      const auto value = m.value();
      const double nbytes = static_cast<double>((key ? key->size() : 0) + (value ? value->size() : 0));
      kafka::OutRecord rec{.topic = ps.target_topic,
                           .partition = ps.partition,
                           .key = key ? std::optional<std::string>(*key) : std::nullopt,
                           .value = value ? std::optional<std::string>(*value) : std::nullopt,
                           .headers = std::move(headers),
                           .timestamp_ms = ts > 0 ? ts : 0};
      if (cfg_.transactions && !in_tx) {
        if (Status s = prod.BeginTransaction(); !s.ok()) return s;
        in_tx = true;
      }
      {
        std::lock_guard lock(shared->mu);
        ++ps.inflight;
        ps.consumed_next = off + 1;
        ps.last_ts = ts;
      }
      probe_.bytes.Increment(nbytes);
      // Two pointers' worth of capture: fits std::function's small buffer (no allocation).
      PartState* part = &ps;
      Status s = prod.Produce(std::move(rec), [part, off](const kafka::DeliveryReport& r) {
        Shared& sh = *part->owner;
        std::lock_guard lock(sh.mu);
        --part->inflight;
        if (r.status.ok()) {
          part->acked_next = std::max(part->acked_next, off + 1);
          sh.probe.records.Increment();
        } else if (!sh.failed) {
          sh.failed = true;
          sh.failure = fmt::format("copy of {}[{}]@{}: {}", part->topic, part->partition, off,
                                   r.status.error().message);
        }
      });
      if (!s.ok()) {
        std::lock_guard lock(shared->mu);
        --ps.inflight;
        return s;
      }
    }
    {
      std::lock_guard lock(shared->mu);
      if (shared->failed) return Error(Errc::kUnavailable, shared->failure);
    }
    const auto now = Clock::now();
    backlog = msgs.size() >= cfg_.batch_max;
    const milliseconds interval =
        backlog ? std::clamp(commit_cost * 10, cfg_.commit_interval, milliseconds(2000))
                : cfg_.commit_interval;
    if (now - last_commit >= interval) {
      if (Status s = commit(false); !s.ok()) return s;
      commit_cost = std::chrono::duration_cast<milliseconds>(Clock::now() - now);
    }
    if (now - last_stats >= std::chrono::seconds(1)) {
      const double secs = std::chrono::duration<double>(now - last_stats).count();
      const double r = probe_.records.Value(), b = probe_.bytes.Value();
      probe_.records_per_second.Set((r - last_records) / secs);
      probe_.bytes_per_second.Set((b - last_bytes) / secs);
      last_records = r;
      last_bytes = b;
      last_stats = now;
      const int64_t wall = WallMs();
      std::lock_guard lock(shared->mu);
      for (auto& ps : shared->parts) {
        auto wm = (*consumer)->Watermarks(ps.topic, ps.partition);
        if (!wm) continue;
        const int64_t next = ps.consumed_next >= 0 ? ps.consumed_next : wm->first;
        const int64_t lag = std::max<int64_t>(0, wm->second - next);
        ps.gauges->lag_records->Set(static_cast<double>(lag));
        ps.gauges->lag_ms->Set(lag > 0 && ps.last_ts > 0 ? static_cast<double>(wall - ps.last_ts)
                                                         : 0.0);
      }
    }
  }
  // Graceful stop: everything taken so far is committed.
  return commit(true);
}

}  // namespace walrus::mirror
