#include "faceswap/eval/metrics.h"

#include <opencv2/calib3d.hpp>
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

// A generic head in millimetres (x right, y down, z away from the camera; nose tip at the
// origin): the six-point model widely used with solvePnP for head pose (e.g. in OpenCV
// head-pose tutorials), with y and z flipped to the camera's axes.
constexpr int kPoseLandmarks[6] = {30, 8, 36, 45, 48, 54};
const std::vector<cv::Point3d>& HeadModel() {
  static const std::vector<cv::Point3d> model = {
      {0.0, 0.0, 0.0},          // nose tip (30)
      {0.0, 330.0, 65.0},       // chin (8)
      {-225.0, -170.0, 135.0},  // outer corner of the eye on the image's left (36)
      {225.0, -170.0, 135.0},   // outer corner of the other eye (45)
      {-150.0, 150.0, 125.0},   // mouth corner on the image's left (48)
      {150.0, 150.0, 125.0},    // the other mouth corner (54)
  };
  return model;
}

cv::Matx33d Camera(cv::Size image_size) {
  const double f = image_size.width;
  return {f, 0, image_size.width / 2.0, 0, f, image_size.height / 2.0, 0, 0, 1};
}

cv::Matx33d RotationOf(const HeadPose& pose) {
  const double d = CV_PI / 180.0;
  const double cx = std::cos(pose.pitch * d), sx = std::sin(pose.pitch * d);
  const double cy = std::cos(pose.yaw * d), sy = std::sin(pose.yaw * d);
  const double cz = std::cos(pose.roll * d), sz = std::sin(pose.roll * d);
  const cv::Matx33d rx(1, 0, 0, 0, cx, -sx, 0, sx, cx);
  const cv::Matx33d ry(cy, 0, sy, 0, 1, 0, -sy, 0, cy);
  const cv::Matx33d rz(cz, -sz, 0, sz, cz, 0, 0, 0, 1);
  return rz * ry * rx;
}

}  // namespace

HeadPose EstimateHeadPose(const face::Landmarks& points, cv::Size image_size) {
  std::vector<cv::Point2d> image_points;
  for (int i : kPoseLandmarks) image_points.emplace_back(points[i].x, points[i].y);
  // Start from a face in front of the camera, at a distance that gives its size.
  const double eyes = std::max(1.0, cv::norm(points[36] - points[45]));
  cv::Mat rvec = cv::Mat::zeros(3, 1, CV_64F);
  cv::Mat tvec = (cv::Mat_<double>(3, 1) << 0.0, 0.0, 450.0 * image_size.width / eyes);
  cv::solvePnP(HeadModel(), image_points, Camera(image_size), cv::noArray(), rvec, tvec, true, cv::SOLVEPNP_ITERATIVE);
  cv::Matx33d r;
  cv::Rodrigues(rvec, r);
  // r = Rz(roll) * Ry(yaw) * Rx(pitch).
  HeadPose pose;
  const double d = 180.0 / CV_PI;
  pose.yaw = std::asin(std::clamp(-r(2, 0), -1.0, 1.0)) * d;
  pose.pitch = std::atan2(r(2, 1), r(2, 2)) * d;
  pose.roll = std::atan2(r(1, 0), r(0, 0)) * d;
  return pose;
}

face::Landmarks ProjectHeadModel(const HeadPose& pose, cv::Size image_size, double distance) {
  const cv::Matx33d r = RotationOf(pose);
  const cv::Matx33d k = Camera(image_size);
  face::Landmarks out{};
  for (size_t i = 0; i < HeadModel().size(); ++i) {
    const cv::Vec3d p = r * cv::Vec3d(HeadModel()[i].x, HeadModel()[i].y, HeadModel()[i].z) + cv::Vec3d(0, 0, distance);
    const cv::Vec3d q = k * p;
    out[static_cast<size_t>(kPoseLandmarks[i])] = cv::Point2f(static_cast<float>(q[0] / q[2]), static_cast<float>(q[1] / q[2]));
  }
  return out;
}

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

DetailFidelity MeasureDetailFidelity(const cv::Mat& reference, const cv::Mat& drawn, const cv::Mat& mask) {
  if (reference.empty() || drawn.empty() || reference.type() != CV_8UC3 || drawn.type() != CV_8UC3) {
    throw Error(ExitCode::kInternal, "detail fidelity: images must be non-empty 8-bit BGR");
  }
  cv::Mat sized = drawn;
  if (drawn.size() != reference.size()) {
    const int interpolation = drawn.cols < reference.cols ? cv::INTER_CUBIC : cv::INTER_AREA;
    cv::resize(drawn, sized, reference.size(), 0, 0, interpolation);
  }
  cv::Mat real, mine;
  cv::cvtColor(reference, real, cv::COLOR_BGR2GRAY);
  cv::cvtColor(sized, mine, cv::COLOR_BGR2GRAY);
  real.convertTo(real, CV_32F);
  mine.convertTo(mine, CV_32F);
  cv::Mat inside = mask.empty() ? cv::Mat(reference.size(), CV_8UC1, cv::Scalar(255)) : mask;
  DetailFidelity result;
  for (int band = 0; band < kDetailBands; ++band) {
    cv::Mat real_down, mine_down, real_up, mine_up;
    cv::pyrDown(real, real_down);
    cv::pyrDown(mine, mine_down);
    cv::pyrUp(real_down, real_up, real.size());
    cv::pyrUp(mine_down, mine_up, mine.size());
    const cv::Mat real_band = real - real_up;
    const cv::Mat error = (mine - mine_up) - real_band;
    auto energy_inside = [&inside](const cv::Mat& m) {
      cv::Mat masked = cv::Mat::zeros(m.size(), CV_32F);
      cv::Mat(m.mul(m)).copyTo(masked, inside);
      return cv::sum(masked)[0];
    };
    const double r = energy_inside(real_band);
    const double e = energy_inside(error);
    result.bands[band] = r + e > 0 ? r / (r + e) : 1.0;
    real = real_down;
    mine = mine_down;
    cv::resize(inside, inside, real.size(), 0, 0, cv::INTER_NEAREST);
  }
  double sum = 0;
  for (double b : result.bands) sum += b;
  result.score = sum / kDetailBands;
  return result;
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
