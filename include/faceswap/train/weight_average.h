#pragma once
// An exponential moving average of a network's weights (as ProGAN and StyleGAN keep one
// for their generators): after each optimiser step, avg = d * avg + (1 - d) * weights. The
// average draws the previews, and convert and eval draw with it, because it changes less
// from step to step than the live weights (less flicker, less noise). Includes LibTorch.
//
// Early in training the average would drag the first random weights along for ~1/(1-d)
// steps, so the decay ramps up: d_t = min(decay, (1 + t) / (10 + t)) (the warm-up of
// TensorFlow's ExponentialMovingAverage with num_updates).

#include <torch/torch.h>

#include "faceswap/model/autoencoder.h"

namespace faceswap::train {

class WeightAverage {
 public:
  // Both must have the same structure. `average` keeps the weights it has (a resumed
  // average); Reset() starts it from the live weights.
  WeightAverage(model::FaceAutoencoder& live, model::FaceAutoencoder& average, double decay);

  // Folds the live weights in; `step` counts optimiser steps (for the warm-up).
  void Update(int64_t step);
  // Makes the average a copy of the live weights (a fresh start, e.g. after a restore).
  void Reset();

  double decay() const { return decay_; }

 private:
  model::FaceAutoencoder& live_;
  model::FaceAutoencoder& average_;
  double decay_;
  std::vector<torch::Tensor> live_params_, average_params_;
};

}  // namespace faceswap::train
