#include "swap_stage.h"

#include <spdlog/spdlog.h>

#include "face_filter.h"
#include "faceswap/pipeline/composite.h"

namespace faceswap::pipeline {

SwapStage::SwapStage(model::Swapper& swapper, int batch_size, int target)
    : swapper_(swapper), batch_size_(batch_size), target_(target) {}

void SwapStage::Process(std::vector<Item>& items) {
  std::vector<cv::Mat> crops;
  for (const Item& item : items) {
    for (const SwapJob& job : item.faces) crops.push_back(job.aligned.crop);
    if (target_ < 0 && !item.faces.empty()) target_ = item.target;
  }
  if (crops.empty()) return;
  if (target_ < 0) {  // no descriptors to tell: the decoder that redraws them best
    const int source = GuessSourceIdentity(swapper_, crops);
    target_ = swapper_.DefaultTarget(source);
    spdlog::info("faces look like identity '{}': drawing them as '{}' (choose with --to)",
                 swapper_.info().identities[source], swapper_.info().identities[target_]);
  }
  const auto outputs = swapper_.Swap(crops, target_, batch_size_);
  size_t k = 0;
  for (Item& item : items) {
    for (SwapJob& job : item.faces) {
      job.swapped = outputs[k++];
      RememberFace(item.frame.seconds, job);
    }
  }
}

void SwapStage::RememberFace(double seconds, SwapJob& job) {
  cv::Mat& mask = job.swapped.mask;
  if (mask.empty() || job.face.track_id < 0) return;
  // The memory compares the crop with the mask pixel for pixel, at the mask's side (the
  // network's; exemplar detail draws the face larger).
  const face::AlignedFace* aligned = &job.aligned;
  if (mask.size() != job.aligned.crop.size()) {
    face::ResizeAligned(job.aligned, mask.cols, mask_aligned_);
    aligned = &mask_aligned_;
  }
  points_.assign(aligned->crop_points.begin(), aligned->crop_points.end());
  HullCore(points_, mask.size(), hull_, region_);  // where the hull knows better than a cover (composite.h)
  memory_.Apply(job.face.track_id, seconds, aligned->crop, region_, mask);
}

}  // namespace faceswap::pipeline
