// Every input the fuzzers found a bug with (tests/fuzz/regressions/HARNESS/, inputs the
// fuzzer made, never bytes of the shared media) through the same check as scripts/fuzz.sh
// runs: the check must pass, throw nothing unexpected and, under the asan preset, trip no
// sanitizer.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "checks.h"

namespace fs = std::filesystem;

namespace faceswap::fuzz {
namespace {

void RunRegressions(const std::string& harness, const std::function<std::string(const std::string&)>& check) {
  const fs::path dir = fs::path(FACESWAP_FUZZ_REGRESSIONS) / harness;
  int inputs = 0;
  std::error_code missing;
  for (const auto& entry : fs::directory_iterator(dir, missing)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(check(input), "") << entry.path();
    ++inputs;
  }
  if (inputs == 0) GTEST_SKIP() << "no regression inputs in " << dir;
}

TEST(FuzzRegressions, Duration) { RunRegressions("duration", CheckDuration); }
TEST(FuzzRegressions, Alignments) { RunRegressions("alignments", CheckAlignments); }
TEST(FuzzRegressions, ModelInfo) { RunRegressions("model_info", CheckModelInfo); }
TEST(FuzzRegressions, CliConfig) { RunRegressions("cli_config", CheckCliConfig); }
TEST(FuzzRegressions, VideoReader) { RunRegressions("video_reader", CheckVideoReader); }

}  // namespace
}  // namespace faceswap::fuzz
