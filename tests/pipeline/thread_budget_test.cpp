#include "faceswap/pipeline/thread_budget.h"

#include <gtest/gtest.h>

#include <thread>

namespace faceswap::pipeline {
namespace {

TEST(ThreadBudget, StagesShareTheCoresInsteadOfEachTakingAll) {
  for (int cores : {1, 2, 4, 8, 16, 64}) {
    const ThreadBudget b = ConvertThreadBudget(cores);
    EXPECT_EQ(b.cores, cores);
    EXPECT_GE(b.decoder, 1);
    EXPECT_GE(b.network, 1);
    EXPECT_GE(b.blend_workers, 2) << "one worker stalled must not stall the frames behind it";
    EXPECT_LE(b.blend_workers, 8);
    EXPECT_EQ(b.opencv, 1);
    EXPECT_EQ(b.encoder, 0) << "the encoder keeps its own choice, as the ffmpeg program does";
    // The pools convert sizes itself, plus the tracking thread, stay within the cores
    // (with the two blend workers' floor on the smallest machines).
    EXPECT_LE(b.decoder + b.network + b.blend_workers + 1, std::max(cores, 4) + 1) << cores << " cores";
  }
  EXPECT_EQ(ConvertThreadBudget(2).network, 1);
  EXPECT_EQ(ConvertThreadBudget(16).network, 4);
  EXPECT_EQ(ConvertThreadBudget(0).cores, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace faceswap::pipeline
