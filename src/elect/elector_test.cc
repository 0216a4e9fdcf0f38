// Unit tests of the election core with a ManualClock: an in-memory lease store that expires
// leases by the fake clock, fake Redis nodes that replicate their primary's epoch, and a fake
// guard that fires at its deadline even while its elector is frozen (not ticked).

#include "elect/elector.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

namespace walrus::elect {
namespace {

using TimePoint = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

constexpr const char* kFenceTarget = "192.0.2.1:6379";

// The lease store shared by all backends (the "etcd"): one holder, expiring by the ManualClock.
struct LeaseStore {
  ManualClock* clock;
  milliseconds ttl{2000};
  std::optional<LeaderRecord> holder;
  TimePoint expires{};
  int64_t rev = 0;
  int64_t last_epoch = 0;
  std::vector<std::pair<TimePoint, int64_t>> elected;  // when each epoch was taken
  int64_t version = 0;                                 // bumped by every change (the "watch")

  void Expire() {
    if (holder && clock->Steady() >= expires) {
      holder.reset();
      ++version;
    }
  }
};

class FakeBackend final : public LeaseBackend {
 public:
  FakeBackend(LeaseStore& s, std::string id) : s_(s), id_(std::move(id)) {}
  std::string Describe() const override { return "fake"; }
  milliseconds ttl() const override { return s_.ttl; }
  Result<Observation> Observe() override {
    if (down) return Error(Errc::kIo, "backend down");
    s_.Expire();
    return Observation{s_.holder, s_.last_epoch};
  }
  Result<Acquired> TryAcquire(const LeaderRecord& me) override {
    if (down) return Error(Errc::kIo, "backend down");
    s_.Expire();
    if (s_.holder) return Acquired{false, 0};
    s_.holder = me;
    s_.holder->epoch = ++s_.rev;
    s_.last_epoch = s_.rev;
    s_.expires = s_.clock->Steady() + s_.ttl;
    s_.elected.emplace_back(s_.clock->Steady(), s_.rev);
    ++s_.version;
    epoch_ = s_.rev;
    return Acquired{true, s_.rev};
  }
  Status Renew() override {
    if (down) return Error(Errc::kIo, "backend down");
    if (conflict_next) {
      conflict_next = false;
      return Error(Errc::kConflict, "injected conflict");
    }
    if (!Mine()) return Error(Errc::kNotFound, "lease expired");
    s_.expires = s_.clock->Steady() + s_.ttl;
    return {};
  }
  Status Publish(const LeaderRecord& me) override {
    if (down) return Error(Errc::kIo, "backend down");
    if (!Mine()) return Error(Errc::kNotFound, "lease expired");
    s_.holder = me;
    ++s_.version;
    return {};
  }
  Status Release() override {
    ++releases;
    if (!down && Mine()) {
      s_.holder.reset();
      ++s_.version;
    }
    epoch_ = 0;
    return {};
  }
  Status ReleaseStale(const LeaderRecord& stale) override {
    ++stale_releases;
    if (s_.holder && s_.holder->id == stale.id && s_.holder->epoch == stale.epoch) {
      s_.holder.reset();
      ++s_.version;
    }
    return {};
  }
  // Like an etcd watch: true once after every change of the store.
  bool Changed() {
    s_.Expire();
    const bool changed = seen_ != s_.version;
    seen_ = s_.version;
    return changed;
  }
  bool WaitForChange(milliseconds) override { return false; }
  void Wake() override {}

  bool down = false;
  bool conflict_next = false;
  int releases = 0;
  int stale_releases = 0;

 private:
  bool Mine() {
    s_.Expire();
    return epoch_ != 0 && s_.holder && s_.holder->id == id_ && s_.holder->epoch == epoch_;
  }
  LeaseStore& s_;
  std::string id_;
  int64_t epoch_ = 0;
  int64_t seen_ = 0;
};

struct FakeRedis {
  bool up = true;
  std::string run_id = "r0";
  bool master = true;
  std::string master_addr;
  int64_t epoch = 0;
  bool sync_blocked = false;
  std::vector<TimePoint> fenced_at;
  std::vector<TimePoint> promoted_at;
};

// The fake "Redis servers" by advertise address; replication copies the primary's epoch.
struct FakeCluster {
  ManualClock* clock;
  std::map<std::string, FakeRedis> nodes;
};

class FakeNode final : public NodeControl {
 public:
  FakeNode(FakeCluster& c, std::string addr) : c_(c), addr_(std::move(addr)) { c_.nodes[addr_]; }
  FakeRedis& r() { return c_.nodes[addr_]; }
  Result<NodeState> Probe() override {
    auto& r = this->r();
    if (!r.up) return Error(Errc::kIo, "connection refused");
    NodeState s;
    s.run_id = r.run_id;
    s.master = r.master;
    if (!r.master) {
      auto colon = r.master_addr.rfind(':');
      s.master_host = r.master_addr.substr(0, colon);
      s.master_port = std::stoi(r.master_addr.substr(colon + 1));
      auto it = c_.nodes.find(r.master_addr);
      s.link_up = it != c_.nodes.end() && it->second.up && it->second.master;
      if (s.link_up && !r.sync_blocked) r.epoch = it->second.epoch;
    }
    s.epoch = r.epoch;
    return s;
  }
  Status Promote(int64_t epoch) override {
    if (!r().up) return Error(Errc::kIo, "connection refused");
    r().master = true;
    r().master_addr.clear();
    r().epoch = epoch;
    r().promoted_at.push_back(c_.clock->Steady());
    return {};
  }
  Status Follow(const std::string& host, int port) override {
    if (!r().up) return Error(Errc::kIo, "connection refused");
    r().master = false;
    r().master_addr = host + ":" + std::to_string(port);
    ++follows;
    return {};
  }
  Status Fence() override {
    if (!r().up) return Error(Errc::kIo, "connection refused");
    if (r().master) r().fenced_at.push_back(c_.clock->Steady());
    r().master = false;
    r().master_addr = kFenceTarget;
    return {};
  }
  Result<int64_t> LeaderOffset(const std::string&, int) override { return int64_t{0}; }
  int follows = 0;

 private:
  FakeCluster& c_;
  std::string addr_;
};

// The out-of-process guard: fires at its deadline whether or not the elector runs.
class FakeGuard final : public DeadlineGuard {
 public:
  explicit FakeGuard(FakeNode& node) : node_(node) {}
  void Arm(TimePoint d) override { deadline = d; }
  void Disarm() override { deadline.reset(); }
  bool Alive() override { return alive; }
  void Check(TimePoint now) {
    if (deadline && now >= *deadline && node_.Fence()) {  // retried until it succeeds
      fired.push_back(now);
      deadline.reset();
    }
  }
  std::optional<TimePoint> deadline;
  std::vector<TimePoint> fired;
  bool alive = true;

 private:
  FakeNode& node_;
};

struct Sidecar {
  Sidecar(LeaseStore& store, FakeCluster& cluster, ManualClock& clock, const std::string& addr)
      : backend(store, addr), node(cluster, addr), guard(node), probe(registry) {
    ElectorOptions o;
    o.id = addr;
    o.advertise = addr;
    o.renew_interval = milliseconds(500);
    o.fence_margin = milliseconds(500);
    o.probe_interval = milliseconds(100);
    o.down_after = milliseconds(500);
    elector = std::make_unique<Elector>(o, backend, node, guard, clock, probe);
    elector->SetTargetCallback([this](const std::optional<std::string>& t) { target = t; });
  }
  FakeBackend backend;
  FakeNode node;
  FakeGuard guard;
  metrics::Registry registry;
  ElectProbe probe;
  std::unique_ptr<Elector> elector;
  std::optional<std::string> target;
  bool frozen = false;
};

class ElectorTest : public ::testing::Test {
 protected:
  ElectorTest() {
    store.clock = &clock;
    cluster.clock = &clock;
    for (int i = 1; i <= 3; ++i) {
      nodes.push_back(std::make_unique<Sidecar>(store, cluster, clock,
                                                "10.0.0." + std::to_string(i) + ":6379"));
    }
  }
  // Advances the fake clock in 50 ms steps; guards always run, electors unless frozen.
  void Run(milliseconds d) {
    for (auto end = clock.Steady() + d; clock.Steady() < end;) {
      clock.Advance(milliseconds(50));
      for (auto& n : nodes) {
        n->guard.Check(clock.Steady());
        if (!n->frozen) n->elector->Tick(n->backend.Changed());
      }
      CheckSafety();
    }
  }
  // Elects the first leader; forgets the fences of the bootstrap (every Redis starts as a
  // primary and is demoted until one is elected). Returns the leader.
  int Bootstrap() {
    Run(milliseconds(1000));
    for (auto& [addr, r] : cluster.nodes) r.fenced_at.clear();
    return Leader();
  }
  // At no instant do two Redis servers accept writes (are primaries).
  void CheckSafety() {
    int masters = 0;
    for (auto& [addr, r] : cluster.nodes) masters += r.up && r.master;
    ASSERT_LE(masters, 1) << "two writable primaries at once";
  }
  int Leader() {
    int found = -1;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i]->elector->role() == Role::kLeader) {
        EXPECT_EQ(found, -1) << "two leaders";
        found = static_cast<int>(i);
      }
    }
    return found;
  }
  std::string Addr(int i) { return "10.0.0." + std::to_string(i + 1) + ":6379"; }

  ManualClock clock;
  LeaseStore store;
  FakeCluster cluster;
  std::vector<std::unique_ptr<Sidecar>> nodes;
};

TEST_F(ElectorTest, BootstrapElectsOneServingLeaderOthersFollow) {
  const int l = Bootstrap();
  ASSERT_GE(l, 0);
  EXPECT_TRUE(cluster.nodes[Addr(l)].master);
  EXPECT_EQ(cluster.nodes[Addr(l)].epoch, 1);
  ASSERT_TRUE(store.holder && store.holder->serving);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(nodes[i]->target, Addr(l)) << "node " << i << " proxy target";
    if (i == l) continue;
    EXPECT_FALSE(cluster.nodes[Addr(i)].master);
    EXPECT_EQ(cluster.nodes[Addr(i)].master_addr, Addr(l));
    EXPECT_EQ(cluster.nodes[Addr(i)].epoch, 1) << "followers hold the leader's data";
  }
  // Renewals keep the same leader for a long time.
  Run(milliseconds(20000));
  EXPECT_EQ(Leader(), l);
  EXPECT_EQ(store.rev, 1);
  EXPECT_TRUE(nodes[l]->elector->Snapshot().ready);
}

TEST_F(ElectorTest, LeaderRedisDownStepsDownAndAnotherLeadsWithHigherEpoch) {
  const int l = Bootstrap();
  ASSERT_GE(l, 0);
  cluster.nodes[Addr(l)].up = false;
  const TimePoint killed = clock.Steady();
  Run(milliseconds(2000));
  const int l2 = Leader();
  ASSERT_GE(l2, 0);
  ASSERT_NE(l2, l);
  EXPECT_EQ(store.last_epoch, 2);
  EXPECT_EQ(cluster.nodes[Addr(l2)].epoch, 2);
  EXPECT_GE(nodes[l]->backend.releases, 1) << "stepped down by releasing, not by expiry";
  // Within down_after (500) + a couple of ticks, not the lease TTL.
  EXPECT_LE(store.elected.back().first - killed, milliseconds(650));
  // The killed Redis comes back empty: it is re-pointed at the new leader, never a primary.
  auto& r = cluster.nodes[Addr(l)];
  r = FakeRedis{};
  r.run_id = "r-restarted";
  Run(milliseconds(300));
  EXPECT_FALSE(r.master);
  EXPECT_EQ(r.master_addr, Addr(l2));
  EXPECT_EQ(r.epoch, 2);
}

TEST_F(ElectorTest, EmptyRestartedFollowerNeverLeads) {
  const int l = Bootstrap();
  ASSERT_GE(l, 0);
  const int empty = (l + 1) % 3, other = (l + 2) % 3;
  // The follower's Redis restarts empty and cannot sync (the leader dies right away).
  auto& r = cluster.nodes[Addr(empty)];
  r = FakeRedis{};
  r.run_id = "r-empty";
  r.sync_blocked = true;
  cluster.nodes[Addr(l)].up = false;
  nodes[other]->frozen = true;  // the only good candidate is not running
  Run(milliseconds(10000));
  EXPECT_NE(nodes[empty]->elector->role(), Role::kLeader);
  EXPECT_TRUE(cluster.nodes[Addr(empty)].promoted_at.empty());
  EXPECT_FALSE(cluster.nodes[Addr(empty)].master) << "an empty non-leader is kept read-only";
  EXPECT_FALSE(nodes[empty]->elector->Snapshot().ready);
  nodes[other]->frozen = false;
  Run(milliseconds(1500));
  EXPECT_EQ(Leader(), other);
  r.sync_blocked = false;
  Run(milliseconds(300));
  EXPECT_EQ(r.master_addr, Addr(other));
  EXPECT_EQ(r.epoch, store.last_epoch);
}

TEST_F(ElectorTest, FrozenLeaderIsFencedBeforeTheLeaseExpiresAndTheNewLeaderPromotes) {
  const int l = Bootstrap();
  ASSERT_GE(l, 0);
  nodes[l]->frozen = true;  // SIGSTOP: no renewals, the guard still runs
  Run(milliseconds(4000));
  // The frozen one still believes it leads (it has not run): find the new leader directly.
  int fresh = -1;
  for (int i = 0; i < 3; ++i) {
    if (i != l && nodes[i]->elector->role() == Role::kLeader) fresh = i;
  }
  ASSERT_GE(fresh, 0);
  auto& old_r = cluster.nodes[Addr(l)];
  auto& new_r = cluster.nodes[Addr(fresh)];
  ASSERT_EQ(old_r.fenced_at.size(), 1u);
  ASSERT_FALSE(new_r.promoted_at.empty());
  EXPECT_LT(old_r.fenced_at[0], new_r.promoted_at.back()) << "old primary refused writes first";
  EXPECT_EQ(nodes[l]->guard.fired.size(), 1u);
  // The frozen sidecar resumes: it notices and follows.
  nodes[l]->frozen = false;
  Run(milliseconds(1000));
  EXPECT_EQ(Leader(), fresh);
  EXPECT_EQ(old_r.master_addr, Addr(fresh));
}

TEST_F(ElectorTest, RenewFailuresDemoteBeforeTheLeaseCanExpire) {
  const int l = Bootstrap();
  ASSERT_GE(l, 0);
  nodes[l]->backend.down = true;  // only this node loses the backend
  const TimePoint expires = store.expires;
  Run(milliseconds(3000));
  auto& r = cluster.nodes[Addr(l)];
  ASSERT_FALSE(r.fenced_at.empty());
  EXPECT_LE(r.fenced_at[0], expires - milliseconds(500));
  EXPECT_NE(nodes[l]->elector->role(), Role::kLeader);
  int fresh = Leader();
  ASSERT_GE(fresh, 0);
  EXPECT_NE(fresh, l);
  EXPECT_GE(cluster.nodes[Addr(fresh)].promoted_at.back(), expires);
}

TEST_F(ElectorTest, LostLeaseStepsDownAtOnce) {
  const int l = Bootstrap();
  ASSERT_GE(l, 0);
  nodes[l]->backend.conflict_next = true;
  Run(milliseconds(600));
  EXPECT_FALSE(cluster.nodes[Addr(l)].fenced_at.empty());
  EXPECT_EQ(nodes[l]->probe.StepDown("lease_lost").Value(), 1);
  Run(milliseconds(1500));
  EXPECT_GE(Leader(), 0);
  EXPECT_EQ(store.last_epoch, 2);
}

TEST_F(ElectorTest, FollowersReassertReplicaofAndNoLeaderMeansReadOnly) {
  const int l = Bootstrap();
  const int f = (l + 1) % 3;
  auto& r = cluster.nodes[Addr(f)];
  r.master = true;  // someone ran REPLICAOF NO ONE on a follower
  r.master_addr.clear();
  clock.Advance(milliseconds(50));
  nodes[f]->elector->Tick();
  EXPECT_FALSE(r.master);
  EXPECT_EQ(r.master_addr, Addr(l));
  // The leader vanishes (frozen and its Redis down): followers keep their Redis read-only.
  nodes[l]->frozen = true;
  cluster.nodes[Addr(l)].up = false;
  r.master = true;
  r.master_addr.clear();
  nodes[(l + 2) % 3]->frozen = true;
  Run(milliseconds(100));
  EXPECT_FALSE(r.master);
}

TEST_F(ElectorTest, ALeaderWhoseRedisFreezesIsFencedWhenItComesBack) {
  const int l = Bootstrap();
  auto& r = cluster.nodes[Addr(l)];
  r.up = false;  // frozen: no answer, but still a primary with its data
  Run(milliseconds(1500));
  const int fresh = Leader();
  ASSERT_GE(fresh, 0);
  ASSERT_NE(fresh, l);
  EXPECT_TRUE(r.master) << "nobody could reach it yet";
  EXPECT_TRUE(nodes[l]->guard.deadline.has_value()) << "the guard keeps trying";
  r.up = true;  // it resumes as a primary of the old epoch: the guard fences it at once
  Run(milliseconds(50));
  EXPECT_FALSE(r.master);
  EXPECT_EQ(nodes[l]->guard.fired.size(), 1u);
  Run(milliseconds(300));
  EXPECT_EQ(r.master_addr, Addr(fresh));
  EXPECT_FALSE(nodes[l]->guard.deadline.has_value()) << "disarmed once it is read-only";
}

TEST_F(ElectorTest, AFollowerBlindForALeaseForgetsTheLeader) {
  const int l = Bootstrap();
  const int f = (l + 1) % 3;
  ASSERT_EQ(nodes[f]->target, Addr(l));
  nodes[f]->backend.down = true;
  Run(milliseconds(1500));
  EXPECT_EQ(nodes[f]->target, Addr(l)) << "a short backend outage changes nothing";
  Run(milliseconds(1000));
  EXPECT_FALSE(nodes[f]->target.has_value()) << "blind for a TTL: the proxy must hold clients";
  EXPECT_FALSE(cluster.nodes[Addr(f)].master);
  nodes[f]->backend.down = false;
  Run(milliseconds(600));
  EXPECT_EQ(nodes[f]->target, Addr(l));
  EXPECT_EQ(Leader(), l);
}

TEST_F(ElectorTest, StaleLeaseOfThisNodeIsReleased) {
  store.holder = LeaderRecord{Addr(0), Addr(0), true, 7};
  store.rev = store.last_epoch = 7;
  store.expires = clock.Steady() + milliseconds(60000);
  cluster.nodes[Addr(0)].epoch = cluster.nodes[Addr(1)].epoch = cluster.nodes[Addr(2)].epoch = 7;
  Run(milliseconds(1500));
  EXPECT_EQ(nodes[0]->backend.stale_releases, 1);
  EXPECT_GE(Leader(), 0);
  EXPECT_EQ(store.last_epoch, 8);
}

TEST_F(ElectorTest, EpochsGrowAcrossFailoversAndWalrusEpochFollows) {
  Bootstrap();
  int64_t prev = 0;
  for (int round = 0; round < 5; ++round) {
    const int l = Leader();
    ASSERT_GE(l, 0) << "round " << round;
    auto& r = cluster.nodes[Addr(l)];
    EXPECT_GT(r.epoch, prev);
    EXPECT_EQ(r.epoch, store.last_epoch);
    prev = r.epoch;
    r.up = false;
    Run(milliseconds(1500));
    r = FakeRedis{};
    r.run_id = "restart-" + std::to_string(round);
    Run(milliseconds(1000));
  }
}

TEST_F(ElectorTest, ShutdownOfTheLeaderDemotesAndReleases) {
  const int l = Bootstrap();
  nodes[l]->elector->Shutdown();
  EXPECT_FALSE(cluster.nodes[Addr(l)].master);
  EXPECT_FALSE(store.holder.has_value());
  EXPECT_FALSE(nodes[l]->guard.deadline.has_value());
  nodes[l]->frozen = true;
  Run(milliseconds(1000));
  EXPECT_GE(Leader(), 0);
  EXPECT_NE(Leader(), l);
}

}  // namespace
}  // namespace walrus::elect
