#include "faceswap/train/weight_average.h"

#include <algorithm>

#include "faceswap/core/error.h"

namespace faceswap::train {

WeightAverage::WeightAverage(model::FaceAutoencoder& live, model::FaceAutoencoder& average, double decay)
    : live_(live), average_(average), decay_(decay) {
  if (!(decay > 0.0 && decay < 1.0)) throw UsageError("weight average decay must be in (0, 1)");
  live_params_ = live_->parameters();
  average_params_ = average_->parameters();
  if (live_params_.size() != average_params_.size()) {
    throw Error(ExitCode::kInternal, "weight average: networks differ in structure");
  }
  for (auto& p : average_params_) p.set_requires_grad(false);
}

void WeightAverage::Update(int64_t step) {
  torch::NoGradGuard no_grad;
  const double d = std::min(decay_, (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step)));
  for (size_t i = 0; i < live_params_.size(); ++i) average_params_[i].mul_(d).add_(live_params_[i], 1.0 - d);
}

void WeightAverage::Reset() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < live_params_.size(); ++i) average_params_[i].copy_(live_params_[i]);
}

}  // namespace faceswap::train
