#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace walrus::metrics {
namespace {

// The value of the first sample line starting with `series` (name plus labels), or NaN.
double SampleValue(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nan("");
}

// Checks `text` against the text exposition format 0.0.4: comment lines are HELP/TYPE with a
// valid name, sample lines are `name{label="value",...} value [timestamp]`. Returns the number of
// samples, or -1 with the offending line in `bad`.
int CheckExposition(const std::string& text, std::string* bad) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kHelp("# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*");
  static const std::regex kType(
      "# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)");
  static const std::regex kSample(
      R"([a-zA-Z_:][a-zA-Z0-9_:]*)"                                      // name
      R"((\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})?)"     // labels
      R"( ([-+]?([0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|[Ii]nf)|[Nn]a[Nn]))"  // value
      R"(( -?[0-9]+)?)");                                                // timestamp
  int samples = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    bool ok;
    if (line.empty()) {
      ok = true;
    } else if (line[0] == '#') {
      ok = std::regex_match(line, kHelp) || std::regex_match(line, kType);
    } else {
      ok = std::regex_match(line, kSample);
      ++samples;
    }
    if (!ok) {
      *bad = line;
      return -1;
    }
  }
  if (!text.empty() && text.back() != '\n') {
    *bad = "(no trailing newline)";
    return -1;
  }
  return samples;
}

TEST(RegistryTest, CounterAppearsWithItsValue) {
  Registry r;
  auto& c = r.Counter("walrus_test_ops_total", "ops").Add({{"topic", "t1"}});
  c.Increment(3);
  const auto text = r.Serialize();
  EXPECT_NE(text.find("# TYPE walrus_test_ops_total counter"), std::string::npos) << text;
  EXPECT_EQ(SampleValue(text, R"(walrus_test_ops_total{topic="t1"})"), 3.0) << text;
}

TEST(RegistryTest, SameNameReturnsSameFamily) {
  Registry r;
  auto& a = r.Gauge("walrus_test_depth", "depth");
  auto& b = r.Gauge("walrus_test_depth", "depth");
  EXPECT_EQ(&a, &b);
  a.Add({}).Set(7);
  EXPECT_EQ(b.Add({}).Value(), 7.0);
}

TEST(RegistryTest, TypeClashAndBadNameThrow) {
  Registry r;
  r.Counter("walrus_test_x", "x");
  EXPECT_THROW(r.Gauge("walrus_test_x", "x"), std::invalid_argument);
  EXPECT_THROW(r.Counter("not a name", "x"), std::invalid_argument);
}

TEST(RegistryTest, IncludesProcessMetrics) {
  Registry r;
  const auto text = r.Serialize();
  EXPECT_GT(SampleValue(text, "process_resident_memory_bytes"), 0.0) << text;
  EXPECT_GE(SampleValue(text, "process_cpu_seconds_total"), 0.0) << text;
  EXPECT_GT(SampleValue(text, "process_start_time_seconds"), 1.5e9) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
}

TEST(RegistryTest, SerializeParsesAsExpositionFormat) {
  Registry r;
  r.Counter("walrus_test_requests_total", "requests", {{"service", "apply"}})
      .Add({{"code", "200"}, {"path", R"(/a"b\c)"}})
      .Increment();
  r.Gauge("walrus_test_lag", "lag with \"quotes\" and \\ in help").Add({{"p", "0"}}).Set(-2.5);
  auto& h = r.Histogram("walrus_test_latency_seconds", "latency").Add({}, LatencyBucketsSeconds());
  h.Observe(0.003);
  h.Observe(42);
  r.Histogram("walrus_test_batch_size", "size")
      .Add({{"k", "multi\nline"}}, SizeBuckets())
      .Observe(7);

  const auto text = r.Serialize();
  std::string bad;
  const int samples = CheckExposition(text, &bad);
  ASSERT_GE(samples, 0) << "bad line: [" << bad << "]\n" << text;
  // 2 plain samples + latency (14 buckets + Inf + sum + count) + size (16 + 3) + process metrics.
  EXPECT_GE(samples, 2 + 17 + 19 + 3) << text;
  EXPECT_EQ(SampleValue(text, R"(walrus_test_latency_seconds_bucket{le="0.005"})"), 1.0) << text;
  EXPECT_EQ(SampleValue(text, R"(walrus_test_latency_seconds_bucket{le="+Inf"})"), 2.0) << text;
  EXPECT_EQ(SampleValue(text, "walrus_test_latency_seconds_count"), 2.0) << text;
}

TEST(RegistryTest, CheckerRejectsMalformedLines) {
  // Guards the checker itself: it must be able to fail.
  std::string bad;
  EXPECT_EQ(CheckExposition("foo 1\n", &bad), 1);
  EXPECT_EQ(CheckExposition("foo{a=\"b\"} 1\nbar NaN\n", &bad), 2);
  EXPECT_EQ(CheckExposition("foo bar\n", &bad), -1);
  EXPECT_EQ(CheckExposition("foo{a=b} 1\n", &bad), -1);
  EXPECT_EQ(CheckExposition("9foo 1\n", &bad), -1);
  EXPECT_EQ(CheckExposition("# TYPE foo countr\n", &bad), -1);
  EXPECT_EQ(CheckExposition("foo 1", &bad), -1);
}

TEST(RegistryTest, BucketsAreIncreasingWithAdvertisedRange) {
  for (const auto& b : {LatencyBucketsSeconds(), SizeBuckets()}) {
    ASSERT_FALSE(b.empty());
    for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  }
  EXPECT_EQ(LatencyBucketsSeconds().front(), 0.0005);
  EXPECT_EQ(LatencyBucketsSeconds().back(), 10.0);
  EXPECT_EQ(SizeBuckets().front(), 1.0);
  EXPECT_EQ(SizeBuckets().back(), 100000.0);
}

TEST(RegistryTest, ConcurrentUpdatesAndSerializeAreExact) {
  Registry r;
  auto& c = r.Counter("walrus_test_concurrent_total", "c").Add({});
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) c.Increment();
    });
  }
  for (int i = 0; i < 20; ++i) (void)r.Serialize();  // concurrent readers must not disturb
  for (auto& t : threads) t.join();
  EXPECT_EQ(SampleValue(r.Serialize(), "walrus_test_concurrent_total"), kThreads * kPerThread);
}

}  // namespace
}  // namespace walrus::metrics
