#pragma once

// Test helpers: a free TCP port, and polling a condition until a deadline.
//
//   int port = walrus::test::FreePort();
//   ASSERT_TRUE(walrus::test::Eventually([&] { return applied() == 100; },
//                                        std::chrono::seconds(10)));
//
// Thread-safe (no shared state).

#include <chrono>
#include <functional>

namespace walrus::test {

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). Another
// process may still take it before the caller binds it; callers that can, retry on EADDRINUSE.
// Aborts the test binary if no socket can be bound at all.
int FreePort();

// Calls `cond` every `interval` until it returns true (-> true) or `timeout` passes
// (-> false; `cond` is evaluated one last time at the deadline).
bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(10));

}  // namespace walrus::test
