#pragma once

// PrimaryLocator: where the current Redis primary is. The applier asks it before every
// (re)connect and polls Changed() to drop a connection to a primary that was replaced.
//
//   auto loc = std::make_unique<redis::DirectLocator>(ep);   // --redis URL
//   auto ep = loc->Locate();                                // or a Sentinel-backed locator
//
// Implementations must be safe to call from the applier thread while their own background
// threads (e.g. a Sentinel subscription) run.

#include <atomic>

#include "core/result.h"
#include "redis/endpoint.h"

namespace walrus::redis {

class PrimaryLocator {
 public:
  virtual ~PrimaryLocator() = default;
  // The endpoint of the current primary (credentials included).
  virtual Result<Endpoint> Locate() = 0;
  // True (once) when the locator learned that the primary moved since the last Locate().
  virtual bool Changed() { return false; }
  // Short description for logs, without secrets.
  virtual std::string Describe() const = 0;
};

// A fixed primary given by URL.
class DirectLocator final : public PrimaryLocator {
 public:
  explicit DirectLocator(Endpoint ep) : ep_(std::move(ep)) {}
  Result<Endpoint> Locate() override { return ep_; }
  std::string Describe() const override { return Redacted(ep_); }

 private:
  Endpoint ep_;
};

}  // namespace walrus::redis
