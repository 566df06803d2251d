#include "faceswap/face/one_euro.h"

#include <cmath>

namespace faceswap::face {
namespace {
double Alpha(double cutoff_hz, double dt) {
  const double tau = 1.0 / (2.0 * CV_PI * cutoff_hz);
  return 1.0 / (1.0 + tau / dt);
}
}  // namespace

cv::Point2d OneEuroFilter2D::Filter(const cv::Point2d& value, double dt, double speed_scale, const OneEuroParams& p) {
  if (!initialised_ || !(dt > 0.0)) {
    initialised_ = true;
    value_ = value;
    speed_ = {0.0, 0.0};
    return value_;
  }
  const cv::Point2d raw_speed = (value - value_) * (1.0 / dt);
  const double a_d = Alpha(p.d_cutoff, dt);
  speed_ = speed_ + a_d * (raw_speed - speed_);
  const double scale = speed_scale > 0.0 ? speed_scale : 1.0;
  const double cutoff = p.min_cutoff + p.beta * std::hypot(speed_.x, speed_.y) / scale;
  const double a = Alpha(cutoff, dt);
  value_ = value_ + a * (value - value_);
  return value_;
}

}  // namespace faceswap::face
