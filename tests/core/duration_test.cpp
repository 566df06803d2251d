#include "faceswap/core/duration.h"

#include <gtest/gtest.h>

#include <string>

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
  for (const char* text : {"", "ten", "10x", "1h30", "m", "-5s", "1.2.3m", "."}) {
    EXPECT_THROW(ParseDuration(text), UsageError) << text;
  }
  // 306 digits of hours: a finite number, but infinitely many seconds.
  EXPECT_THROW(ParseDuration(std::string(306, '9') + "h"), UsageError);
}

}  // namespace
}  // namespace faceswap::core
