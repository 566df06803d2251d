#include "faceswap/core/csv_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::core {
namespace {

TEST(CsvLog, WholeLinesParseAndCutOffOnesDoNot) {
  EXPECT_EQ(ParseCsvNumbers("120,0.0412,0.0398,35.5"), (std::vector<double>{120, 0.0412, 0.0398, 35.5}));
  for (const char* cut : {"", "120,", "120,0.04,", "120,0.0412,0.03x", ",1", "iteration,loss_a"}) {
    EXPECT_FALSE(ParseCsvNumbers(cut)) << cut;
  }
}

TEST(CsvLog, TrimPartialLineDropsOnlyAnUnfinishedLastLine) {
  const fs::path dir = test::MakeTempDir("csv_trim");
  const fs::path file = dir / "loss.csv";
  std::ofstream(file) << "iteration,loss_a\n1,0.5\n2,0.4";  // killed while writing line 3
  TrimPartialLine(file);
  std::stringstream text;
  text << std::ifstream(file).rdbuf();
  EXPECT_EQ(text.str(), "iteration,loss_a\n1,0.5\n");
  TrimPartialLine(file);  // whole lines stay
  EXPECT_EQ(fs::file_size(file), text.str().size());
  TrimPartialLine(dir / "missing.csv");  // nothing to do
  EXPECT_FALSE(fs::exists(dir / "missing.csv"));
}

}  // namespace
}  // namespace faceswap::core
