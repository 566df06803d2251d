#include "faceswap/blend/blend.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include <cmath>
#include <vector>

#include "faceswap/blend/multiband.h"
#include "faceswap/core/error.h"

namespace faceswap::blend {
namespace {

void CheckInputs(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask) {
  if (face.type() != CV_8UC3 || frame.type() != CV_8UC3 || mask.type() != CV_32FC1 || face.size() != frame.size() ||
      mask.size() != frame.size()) {
    throw UsageError("blend: face and frame must be same-size 8-bit BGR, mask float of the same size");
  }
}

}  // namespace

BlendMethod ParseBlendMethod(const std::string& name) {
  if (name == "multiband") return BlendMethod::kMultiBand;
  if (name == "poisson") return BlendMethod::kPoisson;
  if (name == "alpha") return BlendMethod::kAlpha;
  throw UsageError("unknown blend method '" + name + "' (expected multiband, poisson or alpha)");
}

int LevelsForFaceSize(int face_size) {
  const int levels = static_cast<int>(std::ceil(std::log2(std::max(2, face_size)))) - 1;
  return std::clamp(levels - 2, 1, 8);  // the two finest octaves of a face are skin texture
}

cv::Mat AlphaBlend(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask) {
  CheckInputs(face, frame, mask);
  cv::Mat f, g, m3, out;
  face.convertTo(f, CV_32FC3);
  frame.convertTo(g, CV_32FC3);
  cv::merge(std::vector<cv::Mat>{mask, mask, mask}, m3);
  out = g + m3.mul(f - g);
  out.convertTo(out, CV_8UC3);
  return out;
}

cv::Mat MultiBandBlend(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask, int levels,
                       int frame_low_levels) {
  CheckInputs(face, frame, mask);
  cv::Mat out = frame.clone();
  MultiBand().Blend(face, mask, levels, frame_low_levels, out);
  return out;
}

cv::Mat PoissonBlend(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask) {
  CheckInputs(face, frame, mask);
  cv::Mat binary;
  cv::compare(mask, 0.5, binary, cv::CMP_GT);
  const cv::Rect box = cv::boundingRect(binary);
  if (box.width < 3 || box.height < 3) return frame.clone();
  // seamlessClone needs the mask away from the image border.
  cv::Mat inner = cv::Mat::zeros(binary.size(), CV_8UC1);
  const cv::Rect safe(1, 1, binary.cols - 2, binary.rows - 2);
  binary(safe).copyTo(inner(safe));
  const cv::Rect inner_box = cv::boundingRect(inner);
  if (inner_box.width < 3 || inner_box.height < 3) return frame.clone();
  const cv::Point center(inner_box.x + inner_box.width / 2, inner_box.y + inner_box.height / 2);
  cv::Mat out;
  cv::seamlessClone(face, frame, inner, center, out, cv::NORMAL_CLONE);
  return out;
}

cv::Mat Blend(BlendMethod method, const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask, int levels) {
  switch (method) {
    case BlendMethod::kMultiBand: return MultiBandBlend(face, frame, mask, levels);
    case BlendMethod::kPoisson: return PoissonBlend(face, frame, mask);
    case BlendMethod::kAlpha: return AlphaBlend(face, frame, mask);
  }
  return frame.clone();
}

double SeamScore(const cv::Mat& image, const cv::Mat& reference, const cv::Mat& mask) {
  cv::Mat binary;
  cv::compare(mask, 0.5, binary, cv::CMP_GT);
  cv::Mat outer, inner, ring;
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5));
  cv::dilate(binary, outer, kernel);
  cv::erode(binary, inner, kernel);
  cv::subtract(outer, inner, ring);
  if (cv::countNonZero(ring) == 0) return 1.0;
  auto gradient = [&](const cv::Mat& bgr) {
    cv::Mat gray, gx, gy, magnitude;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    cv::Sobel(gray, gx, CV_32F, 1, 0);
    cv::Sobel(gray, gy, CV_32F, 0, 1);
    cv::magnitude(gx, gy, magnitude);
    return cv::mean(magnitude, ring)[0];
  };
  return gradient(image) / std::max(1e-6, gradient(reference));
}

}  // namespace faceswap::blend
