#include "faceswap/eval/metrics.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "faceswap/core/error.h"

namespace faceswap::eval {
namespace {

void RequireSameSize(const cv::Mat& a, const cv::Mat& b, const char* what) {
  if (a.empty() || a.size() != b.size() || a.type() != b.type()) {
    throw Error(ExitCode::kInternal, std::string(what) + ": images must be non-empty and of the same size and type");
  }
}

double SsimChannel(const cv::Mat& x8, const cv::Mat& y8) {
  constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
  constexpr double kC2 = (0.03 * 255) * (0.03 * 255);
  cv::Mat x, y;
  x8.convertTo(x, CV_64F);
  y8.convertTo(y, CV_64F);
  auto blur = [](const cv::Mat& m) {
    cv::Mat out;
    cv::GaussianBlur(m, out, cv::Size(11, 11), 1.5, 1.5, cv::BORDER_REFLECT);
    return out;
  };
  const cv::Mat mx = blur(x), my = blur(y);
  const cv::Mat mx2 = mx.mul(mx), my2 = my.mul(my), mxy = mx.mul(my);
  const cv::Mat sx2 = blur(x.mul(x)) - mx2;
  const cv::Mat sy2 = blur(y.mul(y)) - my2;
  const cv::Mat sxy = blur(x.mul(y)) - mxy;
  cv::Mat numerator = (2 * mxy + kC1).mul(2 * sxy + kC2);
  cv::Mat denominator = (mx2 + my2 + kC1).mul(sx2 + sy2 + kC2);
  cv::Mat map;
  cv::divide(numerator, denominator, map);
  return cv::mean(map)[0];
}

}  // namespace

double Psnr(const cv::Mat& a, const cv::Mat& b) {
  RequireSameSize(a, b, "PSNR");
  const double sse = cv::norm(a, b, cv::NORM_L2SQR);
  if (sse <= 0) return kPsnrIdentical;
  const double mse = sse / static_cast<double>(a.total() * a.channels());
  return std::min(kPsnrIdentical, 10.0 * std::log10(255.0 * 255.0 / mse));
}

double Ssim(const cv::Mat& a, const cv::Mat& b) {
  RequireSameSize(a, b, "SSIM");
  std::vector<cv::Mat> ca, cb;
  cv::split(a, ca);
  cv::split(b, cb);
  double sum = 0;
  for (size_t c = 0; c < ca.size(); ++c) sum += SsimChannel(ca[c], cb[c]);
  return sum / static_cast<double>(ca.size());
}

double LandmarkError(const face::Landmarks& reference, const face::Landmarks& other) {
  const double outer_eyes = cv::norm(reference[36] - reference[45]);
  if (outer_eyes < 1e-6) return 0.0;
  double sum = 0;
  for (size_t i = 0; i < reference.size(); ++i) sum += cv::norm(reference[i] - other[i]);
  return sum / static_cast<double>(reference.size()) / outer_eyes;
}

double MeanChange(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  RequireSameSize(a, b, "MeanChange");
  const int pixels = cv::countNonZero(mask);
  if (pixels == 0) return 0.0;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  const cv::Scalar mean = cv::mean(diff, mask);
  double sum = 0;
  for (int c = 0; c < a.channels(); ++c) sum += mean[c];
  return sum / a.channels();
}

}  // namespace faceswap::eval
