#include "swap_stage.h"

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <cmath>

#include "face_filter.h"
#include "faceswap/blend/mask.h"
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
  const face::AlignedFace& aligned = job.aligned;
  const cv::Mat* crop = &aligned.crop;  // at the drawn face's side, as the mask, unless a model says otherwise
  if (crop->size() != mask.size()) {
    cv::resize(aligned.crop, crop_, mask.size(), 0, 0, cv::INTER_AREA);
    crop = &crop_;
  }
  const double to_mask = static_cast<double>(mask.cols) / aligned.crop.cols;
  points_.clear();
  for (const cv::Point2f& p : aligned.crop_points) points_.emplace_back(p.x * to_mask, p.y * to_mask);
  blend::MaskOptions core;  // the hull less its edge band, where the hull knows better (composite.h)
  core.erode = std::max(1, static_cast<int>(std::lround(kHullEdgeBand * mask.cols)));
  hull_.create(mask.size(), CV_32FC1);
  blend::HullMaskInto(points_, core, hull_);
  cv::compare(hull_, 0.5, region_, cv::CMP_GT);
  memory_.Apply(job.face.track_id, seconds, *crop, region_, mask);
}

}  // namespace faceswap::pipeline
