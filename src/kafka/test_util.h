#pragma once

// Helpers for the kafka component tests (not part of the library): deadline polling, a
// recording RebalanceHandler, and draining a consumer.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kafka/consumer.h"

namespace walrus::kafka::testing {

// Polls `pred` every 10 ms until true or `timeout`; returns the last value.
inline bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Records assignments; assigns at `start_offsets[{topic, partition}]` when present.
class RecordingHandler : public RebalanceHandler {
 public:
  void OnAssigned(std::vector<TopicPartition>& parts) override {
    for (auto& tp : parts) {
      auto it = start_offsets.find({tp.topic, tp.partition});
      if (it != start_offsets.end()) tp.offset = it->second;
      owned.insert({tp.topic, tp.partition});
    }
    ++assign_calls;
  }
  void OnRevoked(const std::vector<TopicPartition>& parts) override {
    for (const auto& tp : parts) owned.erase({tp.topic, tp.partition});
    ++revoke_calls;
  }

  std::map<std::pair<std::string, int32_t>, int64_t> start_offsets;
  std::set<std::pair<std::string, int32_t>> owned;
  int assign_calls = 0;
  int revoke_calls = 0;
};

// Polls until `n` records arrived (error events are skipped) or `timeout` passed.
inline std::vector<Message> Drain(Consumer& c, size_t n, std::chrono::milliseconds timeout) {
  std::vector<Message> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    for (Message& m : c.PollBatch(n - out.size(), std::chrono::milliseconds(100))) {
      if (m.error().ok()) out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace walrus::kafka::testing
