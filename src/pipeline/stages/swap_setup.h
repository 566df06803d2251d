#pragma once
// What convert and live both set up before their stage chain, and the checks they share
// once the model is loaded.

#include <future>

#include "face_filter.h"
#include "faceswap/face/tracker.h"
#include "faceswap/model/swapper.h"
#include "faceswap/pipeline/swap_options.h"
#include "faceswap/pipeline/thread_budget.h"
#include "faceswap/watermark/watermark.h"

namespace faceswap::pipeline {

// The identity --to names (-1: the other one, decided by the first face), after checking
// that the model's alignment is known and that --to is given where it must be.
int ChosenTarget(const SwapOptions& options, const model::Swapper& swapper);

// The thread budget (applied to OpenCV and the network), the face tracker (loading in the
// background: the detector and landmark model take a second or more, in parallel with the
// networks), the swap network, whose faces to swap, and the watermark's payload. `options`
// must outlive it (the tracker's loader reads it).
struct SwapSetup {
  explicit SwapSetup(const SwapOptions& options);

  ThreadBudget budget;
  std::future<face::Tracker> tracker_loaded;
  model::Swapper swapper;
  FaceFilter filter;
  watermark::Payload mark;
};

}  // namespace faceswap::pipeline
