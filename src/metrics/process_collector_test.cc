#include "metrics/process_collector.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>

namespace walrus::metrics {
namespace {

TEST(ProcessCollectorTest, ResidentMemoryGrowsWhenPagesAreTouched) {
  const auto before = ReadProcessStats();
  ASSERT_TRUE(before.resident_bytes.has_value());
  ASSERT_TRUE(before.virtual_bytes.has_value());
  EXPECT_GE(*before.virtual_bytes, *before.resident_bytes);

  constexpr size_t kSize = 64 << 20;
  std::unique_ptr<char[]> block(new char[kSize]);
  std::memset(block.get(), 1, kSize);
  const auto after = ReadProcessStats();
  EXPECT_GE(*after.resident_bytes - *before.resident_bytes, kSize / 2.0);
  EXPECT_EQ(block[kSize - 1], 1);
}

TEST(ProcessCollectorTest, CpuSecondsAdvanceWhileBusy) {
  const double start = *ReadProcessStats().cpu_seconds;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  volatile uint64_t sink = 0;
  double now = start;
  while (now < start + 0.05 && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 1000000; ++i) sink = sink + i;
    now = *ReadProcessStats().cpu_seconds;
  }
  EXPECT_GE(now, start + 0.05);
}

TEST(ProcessCollectorTest, StartTimeIsRecentAndInThePast) {
  const auto stats = ReadProcessStats();
  ASSERT_TRUE(stats.start_time_seconds.has_value());
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(*stats.start_time_seconds, now + 1);
  EXPECT_GT(*stats.start_time_seconds, now - 600);  // this test binary started minutes ago at most
}

TEST(ProcessCollectorTest, OpenFdsCountsANewDescriptor) {
  const double before = *ReadProcessStats().open_fds;
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  const double during = *ReadProcessStats().open_fds;
  close(fd);
  EXPECT_EQ(during, before + 1);
  EXPECT_EQ(*ReadProcessStats().open_fds, before);
}

TEST(ProcessCollectorTest, CollectNamesTheStandardFamilies) {
  ProcessCollector pc;
  std::string names;
  for (const auto& f : pc.Collect()) names += f.name + " ";
  for (const char* want : {"process_resident_memory_bytes", "process_cpu_seconds_total",
                           "process_start_time_seconds", "process_open_fds"}) {
    EXPECT_NE(names.find(want), std::string::npos) << want << " missing from " << names;
  }
}

}  // namespace
}  // namespace walrus::metrics
