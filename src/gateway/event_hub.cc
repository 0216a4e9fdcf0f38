#include "gateway/event_hub.h"

#include <algorithm>
#include <charconv>

namespace walrus::gateway {
namespace {

std::optional<uint64_t> ParseId(const std::string& s) {
  uint64_t v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::string SseFrame(uint64_t id, std::string_view event, std::string_view data) {
  std::string f;
  f.reserve(data.size() + event.size() + 40);
  if (id != 0) {
    f += "id: ";
    f += std::to_string(id);
    f += '\n';
  }
  f += "event: ";
  f += event;
  f += "\ndata: ";
  f += data;
  f += "\n\n";
  return f;
}

EventHub::EventHub(Options opts) : opts_(opts), next_id_(std::max<uint64_t>(1, opts.first_id)) {}

uint64_t EventHub::Publish(std::string_view event, std::string_view data_json) {
  auto msg = std::make_shared<SseMessage>();
  msg->event = std::string(event);
  std::lock_guard lock(mu_);
  msg->id = next_id_++;
  msg->frame = SseFrame(msg->id, event, data_json);
  SseMessagePtr shared = std::move(msg);
  ring_.push_back(shared);
  while (ring_.size() > opts_.ring) ring_.pop_front();
  for (Subscription* s : subs_) {
    if (s->state_ != State::kOpen) continue;
    if (s->queue_.size() >= s->live_limit_) {
      // Too slow: drop what it has queued and end it; it resumes with Last-Event-ID.
      s->queue_.clear();
      s->state_ = State::kOverflow;
      ++overflows_;
    } else {
      s->queue_.push_back(shared);
    }
    s->cv_.notify_one();
    if (s->wake_) s->wake_();
  }
  return shared->id;
}

std::unique_ptr<EventHub::Subscription> EventHub::Subscribe(
    const std::optional<std::string>& last_event_id, size_t backlog) {
  std::unique_ptr<Subscription> sub(new Subscription(this));
  std::lock_guard lock(mu_);
  if (closed_) {
    sub->state_ = State::kClosed;
    sub->hub_ = nullptr;
    return sub;
  }
  auto copy_after = [&](uint64_t after) {
    for (const auto& m : ring_) {
      if (m->id > after) sub->queue_.push_back(m);
    }
  };
  if (last_event_id) {
    const uint64_t oldest = ring_.empty() ? next_id_ : ring_.front()->id;
    auto n = ParseId(*last_event_id);
    // Covered: every message after n is still in the ring (n + 1 >= oldest) and n was issued.
    if (n && *n + 1 >= oldest && *n < next_id_) {
      copy_after(*n);
    } else {
      auto reset = std::make_shared<SseMessage>();
      reset->event = "reset";
      reset->frame = SseFrame(0, "reset",
                              R"({"reason":"Last-Event-ID )" +
                                  std::string(n ? "is outside the buffer" : "is not a number") +
                                  R"(; the buffer follows","oldest":)" + std::to_string(oldest) +
                                  "}");
      sub->queue_.push_back(std::move(reset));
      copy_after(0);
    }
  } else if (backlog > 0) {
    const size_t skip = ring_.size() > backlog ? ring_.size() - backlog : 0;
    for (size_t i = skip; i < ring_.size(); ++i) sub->queue_.push_back(ring_[i]);
  }
  sub->live_limit_ = sub->queue_.size() + opts_.client_queue;
  subs_.push_back(sub.get());
  return sub;
}

void EventHub::Unsubscribe(Subscription* s) {
  std::lock_guard lock(mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), s), subs_.end());
}

void EventHub::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (Subscription* s : subs_) {
    if (s->state_ == State::kOpen) s->state_ = State::kClosed;
    s->cv_.notify_one();
    if (s->wake_) s->wake_();
  }
}

size_t EventHub::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

uint64_t EventHub::last_id() const {
  std::lock_guard lock(mu_);
  return next_id_ - 1;
}

uint64_t EventHub::overflows() const {
  std::lock_guard lock(mu_);
  return overflows_;
}

EventHub::Subscription::~Subscription() {
  if (hub_ != nullptr) hub_->Unsubscribe(this);
}

void EventHub::Subscription::SetWakeup(std::function<void()> wake) {
  if (hub_ == nullptr) {
    if (wake) wake();  // a closed hub: the subscriber finds kClosed on its next Wait
    return;
  }
  std::lock_guard lock(hub_->mu_);
  wake_ = std::move(wake);
}

EventHub::Batch EventHub::Subscription::Wait(std::chrono::milliseconds timeout) {
  Batch b;
  if (hub_ == nullptr) {
    b.state = state_;
    return b;
  }
  std::unique_lock lock(hub_->mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || state_ != State::kOpen; });
  b.messages.assign(queue_.begin(), queue_.end());
  queue_.clear();
  b.state = state_;
  return b;
}

}  // namespace walrus::gateway
