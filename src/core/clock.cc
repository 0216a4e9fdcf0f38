#include "core/clock.h"

namespace walrus {
namespace {

class RealClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Steady() override { return std::chrono::steady_clock::now(); }
  int64_t WallMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

}  // namespace walrus
