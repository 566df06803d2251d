#include "faceswap/pipeline/thread_budget.h"

#include <algorithm>
#include <thread>

namespace faceswap::pipeline {

ThreadBudget ConvertThreadBudget(int threads) {
  ThreadBudget b;
  b.cores = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Per frame of a 540x960 clip on this project's 2-core VM (perf, scripts/bench_convert.sh):
  // encoding (x264 medium) ~32 ms of CPU, tracking ~11, compositing ~9, the lite network ~7
  // per face, decoding ~3. The encoder is the largest stage and x264 threads well, so it
  // keeps its own choice, which is also what the ffmpeg program uses (like with like). Each
  // other stage gets a share of the cores that matches its cost.
  b.decoder = std::max(1, b.cores / 8);
  b.network = std::max(1, b.cores / 4);
  // Two workers even on two cores: one of them stalled behind the encoder must not stall
  // the frames behind it.
  b.blend_workers = std::clamp(b.cores / 2, 2, 8);
  b.opencv = 1;  // stages and workers already run side by side; nested pools only add spinning
  b.encoder = 0;
  return b;
}

}  // namespace faceswap::pipeline
