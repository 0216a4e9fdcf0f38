#include "apply/source_coords.h"

#include <gtest/gtest.h>

namespace walrus::apply {
namespace {

TEST(SourceCoordsTest, Parses) {
  auto c = ParseSourceCoords("us/us.events/3/12345");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stream, "us/us.events/3");
  EXPECT_EQ(c->offset, 12345);
  EXPECT_EQ(SourceKey(c->stream), "walrus:src:us/us.events/3");
}

TEST(SourceCoordsTest, RejectsMalformed) {
  for (const char* bad : {"", "us", "us/t/1", "us/t/x/1", "us/t/1/x", "/t/1/2", "us//1/2",
                          "us/t//2", "us/t/1/", "us/a/b/1/2", "us/t/-1/2", "us/t/1/-2", "us/t/1/-0",
                          "us/t/+1/2", "us/t/1/+2", "us/t/1/99999999999999999999"}) {
    EXPECT_FALSE(ParseSourceCoords(bad)) << bad;
  }
}

}  // namespace
}  // namespace walrus::apply
