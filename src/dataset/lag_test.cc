#include "dataset/lag.h"

#include <gtest/gtest.h>

namespace walrus::dataset {
namespace {

TEST(Lag, RecordsFromAPositionToTheLogEnd) {
  EXPECT_EQ(RecordsFrom(7, 0, 10), 3);
  EXPECT_EQ(RecordsFrom(10, 0, 10), 0);   // everything consumed
  EXPECT_EQ(RecordsFrom(-1, 4, 10), 6);   // nothing stored: from the log start
  EXPECT_EQ(RecordsFrom(-1, 0, 0), 0);    // empty log
  EXPECT_EQ(RecordsFrom(12, 0, 10), 0);   // never negative
}

TEST(Lag, ApplierAndMirrorPositionLagAreRecordsFromTheirPosition) {
  EXPECT_EQ(ApplierLag(5, 2, 9), 4);
  EXPECT_EQ(ApplierLag(-1, 2, 9), 7);
  EXPECT_EQ(MirrorPositionLag(5, 2, 9), 4);
  EXPECT_EQ(MirrorPositionLag(-1, 2, 9), 7);
}

TEST(Lag, MirrorCopyLagComparesEndOffsets) {
  EXPECT_EQ(MirrorCopyLag(100, 60), 40);
  EXPECT_EQ(MirrorCopyLag(100, 100), 0);
  EXPECT_EQ(MirrorCopyLag(60, 100), 0);  // the copy ahead (e.g. source log replaced): not negative
}

}  // namespace
}  // namespace walrus::dataset
