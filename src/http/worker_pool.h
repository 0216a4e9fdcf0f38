#pragma once

// WorkerPool: a fixed number of threads running submitted tasks from a bounded queue, so that
// handlers which block (POST /api/produce waits for Kafka's ack) never run on, or stall,
// http::Server's I/O threads, and a flood of slow requests is refused instead of queued forever.
//
//   WorkerPool pool("gateway", /*threads=*/16, /*max_queued=*/256);
//   if (!pool.TrySubmit([] { SlowWork(); })) Reply503();
//   pool.Stop();   // also in the destructor: running tasks finish, queued ones are dropped
//
// Threading: TrySubmit from any thread; Stop from one (not a worker).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace walrus::http {

class WorkerPool {
 public:
  WorkerPool(std::string name, int threads, size_t max_queued);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when every thread is busy and max_queued tasks wait already, or the pool is stopped
  // (the task is not run).
  bool TrySubmit(std::function<void()> task);
  void Stop();
  size_t queued() const;
  int busy() const;

 private:
  void Run();

  const std::string name_;
  const size_t nthreads_;
  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int busy_ = 0;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace walrus::http
