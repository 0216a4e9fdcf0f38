#include "gateway/arrival_dedup.h"

namespace walrus::gateway {

bool ArrivalDedup::First(Side& mine, Side& other, Coord c) {
  std::lock_guard lock(mu_);
  if (other.set.erase(c) > 0) return false;  // the other path showed it already
  if (mine.set.insert(c).second) {
    mine.order.push_back(c);
    while (mine.order.size() > capacity_) {
      mine.set.erase(mine.order.front());
      mine.order.pop_front();
    }
  }
  return true;
}

bool ArrivalDedup::FirstFromAck(int32_t partition, int64_t offset) {
  return First(acked_, consumed_, {partition, offset});
}

bool ArrivalDedup::FirstFromConsumer(int32_t partition, int64_t offset) {
  return First(consumed_, acked_, {partition, offset});
}

}  // namespace walrus::gateway
