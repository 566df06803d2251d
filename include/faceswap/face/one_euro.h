#pragma once
// The One-Euro filter (Casiez, Roussel and Vogel, "1€ Filter: A Simple Speed-based Low-pass
// Filter for Noisy Input in Interactive Systems", CHI 2012): a first-order low-pass whose
// cutoff rises with the signal's speed, so slow movement (a still face's landmark jitter)
// is smoothed hard and fast movement passes with little lag.
//
//   cutoff = min_cutoff + beta * |smoothed speed|,  alpha = 1 / (1 + 1 / (2*pi*cutoff*dt))

#include <opencv2/core.hpp>

namespace faceswap::face {

struct OneEuroParams {
  double min_cutoff = 1.0;  // Hz: the cutoff at rest (lower: steadier, more lag when slow)
  double beta = 0.5;        // cutoff gain per unit of speed (units/s, see `speed_scale`)
  double d_cutoff = 1.0;    // Hz: cutoff of the speed estimate (the paper's default)
};

// Filters a 2D point; speed is the magnitude of its velocity divided by `speed_scale`
// (pass the face's inter-ocular distance so the filter behaves the same at any face size).
class OneEuroFilter2D {
 public:
  cv::Point2d Filter(const cv::Point2d& value, double dt_seconds, double speed_scale, const OneEuroParams& params);
  void Reset() { initialised_ = false; }

 private:
  bool initialised_ = false;
  cv::Point2d value_;
  cv::Point2d speed_;
};

}  // namespace faceswap::face
