#include "faceswap/core/progress.h"

#include <gtest/gtest.h>

namespace faceswap::core {
namespace {

TEST(FormatDuration, PicksCompactUnits) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(59.4), "59s");
  EXPECT_EQ(FormatDuration(185), "3m05s");
  EXPECT_EQ(FormatDuration(3720), "1h02m");
  EXPECT_EQ(FormatDuration(-1), "?");
}

TEST(Progress, LineShowsCountPercentRateAndStatus) {
  Progress progress("extract", 200, "frames");
  progress.Advance(50);
  progress.SetStatus("faces 48");
  const std::string line = progress.Line();
  EXPECT_NE(line.find("extract"), std::string::npos) << line;
  EXPECT_NE(line.find("50/200"), std::string::npos) << line;
  EXPECT_NE(line.find(" 25%"), std::string::npos) << line;
  EXPECT_NE(line.find("frames/s"), std::string::npos) << line;
  EXPECT_NE(line.find("faces 48"), std::string::npos) << line;
  EXPECT_EQ(progress.done(), 50);
}

TEST(Progress, UnknownTotalHasNoPercent) {
  Progress progress("decode", 0);
  progress.Advance(7);
  const std::string line = progress.Line();
  EXPECT_EQ(line.find('%'), std::string::npos) << line;
  EXPECT_EQ(line.find("ETA"), std::string::npos) << line;
}

}  // namespace
}  // namespace faceswap::core
