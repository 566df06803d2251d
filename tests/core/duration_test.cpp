#include "faceswap/core/duration.h"

#include <gtest/gtest.h>

#include "faceswap/core/error.h"

namespace faceswap::core {
namespace {

TEST(ParseDuration, AcceptsUnitsAndCombinations) {
  EXPECT_DOUBLE_EQ(ParseDuration("90"), 90);
  EXPECT_DOUBLE_EQ(ParseDuration("90s"), 90);
  EXPECT_DOUBLE_EQ(ParseDuration("10m"), 600);
  EXPECT_DOUBLE_EQ(ParseDuration("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(ParseDuration("1.5m"), 90);
}

TEST(ParseDuration, RejectsWhatIsNotADuration) {
  for (const char* text : {"", "ten", "10x", "1h30", "m", "-5s"}) {
    EXPECT_THROW(ParseDuration(text), UsageError) << text;
  }
}

}  // namespace
}  // namespace faceswap::core
