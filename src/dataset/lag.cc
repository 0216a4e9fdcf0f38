#include "dataset/lag.h"

#include <algorithm>

namespace walrus::dataset {

int64_t RecordsFrom(int64_t next, int64_t low, int64_t high) {
  return std::max<int64_t>(0, high - (next >= 0 ? next : low));
}

int64_t ApplierLag(int64_t position, int64_t low, int64_t high) {
  return RecordsFrom(position, low, high);
}

int64_t MirrorPositionLag(int64_t next, int64_t source_low, int64_t source_high) {
  return RecordsFrom(next, source_low, source_high);
}

int64_t MirrorCopyLag(int64_t source_end, int64_t copy_end) {
  return std::max<int64_t>(0, source_end - copy_end);
}

}  // namespace walrus::dataset
