// The one main() of every test executable: seeds every RNG before each test so that a
// failure reproduces, the way COLMAP's gtest main does for its RNG.

#include <gtest/gtest.h>

#include <cstdlib>
#include <opencv2/core.hpp>
#include <random>

#include "faceswap/core/log.h"
#include "test_support.h"

namespace faceswap::test {
void RunSeeders(unsigned seed);
}

namespace {
constexpr unsigned kSeed = 20261122;

class SeedEveryTest : public testing::EmptyTestEventListener {
  void OnTestStart(const testing::TestInfo&) override {
    cv::theRNG().state = kSeed;
    std::srand(kSeed);
    faceswap::test::RunSeeders(kSeed);
  }
};
}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  faceswap::core::SetupLogging(faceswap::core::Verbosity::kNormal, std::nullopt);
  testing::UnitTest::GetInstance()->listeners().Append(new SeedEveryTest);
  return RUN_ALL_TESTS();
}
