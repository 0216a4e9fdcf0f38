#pragma once

// EventHub: the gateway's Server-Sent Events fan-out. Every published message gets the next id
// (decimal, increasing) and goes into a ring of the last `ring` messages (the Last-Event-ID
// resume window) and into the bounded queue of every subscriber. A subscriber whose queue
// reaches `client_queue` (a client that does not keep up) is cut off: its Wait() reports
// kOverflow and the SSE connection closes; the client resumes with Last-Event-ID.
//
//   EventHub hub({.ring = 10000, .client_queue = 4096, .first_id = NowMs() * 1000});
//   hub.Publish("op", R"({"origin":"us",...})");
//   auto sub = hub.Subscribe(/*last_event_id=*/"41", /*backlog=*/0);
//   for (;;) {
//     auto batch = sub->Wait(std::chrono::seconds(1));
//     for (auto& m : batch.messages) write(m->frame);          // "id: 42\nevent: op\ndata: ...\n\n"
//     if (batch.state != EventHub::State::kOpen) break;
//   }
//
// Ids start at `first_id`; the gateway uses unix-ms * 1000, so ids of a restarted gateway are
// larger than any it issued before, and a Last-Event-ID from an earlier run is simply "too old"
// (the client gets `event: reset`, then the buffer).
//
// Threading: all methods are thread-safe. Publishers are the region consumers and pollers; each
// Subscription is used by the one HTTP worker that serves its SSE connection. The hub must
// outlive its subscriptions (the HTTP server is stopped before the hub goes away).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace walrus::gateway {

struct SseMessage {
  uint64_t id = 0;    // 0: not numbered (reset notices)
  std::string event;  // the `event:` name
  std::string frame;  // the complete SSE frame, ready to write
};
using SseMessagePtr = std::shared_ptr<const SseMessage>;

// The SSE frame of one message: "id: <id>\nevent: <event>\ndata: <data>\n\n" (no id line when
// id is 0). `data` must not contain newlines (compact JSON never does).
std::string SseFrame(uint64_t id, std::string_view event, std::string_view data);

class EventHub {
 public:
  struct Options {
    size_t ring = 10000;
    size_t client_queue = 4096;
    uint64_t first_id = 1;
  };
  enum class State { kOpen, kOverflow, kClosed };
  struct Batch {
    std::vector<SseMessagePtr> messages;
    State state = State::kOpen;
  };

  class Subscription {
   public:
    ~Subscription();  // unsubscribes
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    // Waits up to `timeout` for messages; returns everything queued. state != kOpen: the
    // subscription is over (after these messages).
    Batch Wait(std::chrono::milliseconds timeout);
    // `wake` runs (under the hub's lock: it must be cheap, must not block and must not call
    // back into the hub) whenever a message is queued for this subscriber or its state changes,
    // so an event-driven server can Wait(0) later instead of a thread blocking in Wait.
    void SetWakeup(std::function<void()> wake);

   private:
    friend class EventHub;
    explicit Subscription(EventHub* hub) : hub_(hub) {}
    EventHub* hub_;
    std::deque<SseMessagePtr> queue_;  // guarded by hub_->mu_
    size_t live_limit_ = 0;            // queue bound (backlog + client_queue)
    State state_ = State::kOpen;
    std::condition_variable cv_;
    std::function<void()> wake_;  // guarded by hub_->mu_
  };

  explicit EventHub(Options opts);
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Numbers, buffers and fans out one message; returns its id.
  uint64_t Publish(std::string_view event, std::string_view data_json);
  // A new subscriber. `last_event_id`: the Last-Event-ID header (nullopt: none). With a valid id
  // still covered by the ring, the queue starts with every buffered message after it; with an
  // id the ring no longer covers (too old, unparsable, or from a later run), with a reset
  // notice followed by the whole ring. Without one, with the last `backlog` buffered messages.
  std::unique_ptr<Subscription> Subscribe(const std::optional<std::string>& last_event_id,
                                          size_t backlog = 0);
  // Ends every subscription (kClosed) and refuses new ones. Idempotent.
  void Close();

  size_t subscribers() const;
  uint64_t last_id() const;    // id of the last message published (first_id - 1 before any)
  uint64_t overflows() const;  // subscribers cut off so far

 private:
  void Unsubscribe(Subscription* s);

  const Options opts_;
  mutable std::mutex mu_;
  std::deque<SseMessagePtr> ring_;
  uint64_t next_id_;
  std::vector<Subscription*> subs_;
  uint64_t overflows_ = 0;
  bool closed_ = false;
};

}  // namespace walrus::gateway
