#include "faceswap/pipeline/swap_options.h"

#include <opencv2/core/utility.hpp>

#include "faceswap/core/error.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/model/device.h"
#include "faceswap/model/swapper.h"
#include "faceswap/pipeline/exemplars.h"
#include "stages/swap_setup.h"

namespace faceswap::pipeline {
namespace {

ThreadBudget AppliedThreadBudget(int threads) {
  const ThreadBudget budget = ConvertThreadBudget(threads);
  cv::setNumThreads(budget.opencv);
  model::SetCpuThreads(budget.network);
  return budget;
}

}  // namespace

void SwapOptions::Check() const {
  if (model_dir.empty()) throw UsageError("no model given (-m)");
  if (batch_size < 1) throw UsageError("--batch must be 1 or more");
  if (swap_all && only_reference) throw UsageError("--swap-all and --only exclude each other");
  if (tracker.selection != face::FaceSelection::kAll) throw UsageError("every face is tracked; choose whose with --only");
  composite.Check();
  watermark.Check();
  tracker.Check();
}

int ChosenTarget(const SwapOptions& o, const model::Swapper& swapper) {
  if (swapper.info().alignment_template != face::AlignmentsFile{}.template_name) {
    throw ModelError(o.model_dir / model::kModelInfoFile,
                     "model was trained on faces aligned with '" + swapper.info().alignment_template +
                         "', which this build does not know");
  }
  const int chosen = o.to.empty() ? -1 : swapper.IdentityIndex(o.to);
  if (chosen < 0 && swapper.info().identities.size() != 2) {
    throw UsageError(o.model_dir.string() + ": this model knows " + std::to_string(swapper.info().identities.size()) +
                     " identities; say which one to draw with --to");
  }
  return chosen;
}

SwapSetup::SwapSetup(const SwapOptions& o)
    : budget(AppliedThreadBudget(o.threads)),
      tracker_loaded(std::async(std::launch::async, [&o] { return face::Tracker(o.tracker, o.detector); })),
      swapper(o.model_dir, o.device, o.precision),
      filter(o, swapper, ChosenTarget(o, swapper)),
      mark(watermark::PayloadForThisBuild(swapper.info().weights_hash)) {
  swapper.set_masks(o.composite.mask != MaskSource::kLandmarks);
  UseDetail(swapper, o.detail);
}

}  // namespace faceswap::pipeline
