#pragma once
// Model forward benchmarks: model::Swapper::Swap on batches of aligned crops for every
// preset, each next to the bare LibTorch forward of the same network on a tensor of the
// same shape (the reference: what Swap adds is image<->tensor conversion and batching).

#include <filesystem>

#include "faceswap/face/face.h"
#include "reference_table.h"

#include <opencv2/core.hpp>

namespace faceswap::bench {

// Registers Swap/<preset>/batch<N> and Reference/torch_forward/<preset>/batch<N> for N in
// {1, 16}, and Swap/lite+exemplars/batch16 (the lite model drawing at 256 px with
// --detail exemplars) paired with Swap/lite/batch16. Untrained model folders are made under `work_dir` when a preset's benchmark
// first runs (not timed). `frame` and `points` must outlive the benchmark run.
void RegisterModelBenchmarks(const cv::Mat& frame, const face::Landmarks& points, const std::filesystem::path& work_dir,
                             ReferenceTable& table);

}  // namespace faceswap::bench
