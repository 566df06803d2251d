#include "faceswap/face/align.h"

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "faceswap/core/error.h"
#include "faceswap/core/warp.h"

namespace faceswap::face {

void AlignOptions::Check() const {
  if (size < 16 || size > 4096) throw UsageError("face crop size must be 16..4096 pixels, got " + std::to_string(size));
  if (!(coverage >= 0.5 && coverage <= 4.0)) {
    throw UsageError("face coverage must be 0.5..4.0 (crop side / inner-face template side), got " + std::to_string(coverage));
  }
}

const std::array<cv::Point2d, kTemplatePoints>& MeanFaceTemplate() {
  // Mean positions of iBUG landmarks 17-67 in the unit square, as published in dlib 19.24,
  // dlib/image_transforms/interpolation.h, get_face_chip_details() ("Average positions of
  // face points 17-67"); the same figures are the mean face of deepfakes/faceswap's
  // aligner. Numbers only; the fitting code here is our own.
  static const std::array<cv::Point2d, kTemplatePoints> kTemplate = [] {
    constexpr double x[kTemplatePoints] = {
        0.000213256, 0.0752622, 0.18113,  0.29077,  0.393397, 0.586856, 0.689483, 0.799124, 0.904991,
        0.98004,     0.490127,  0.490127, 0.490127, 0.490127, 0.36688,  0.426036, 0.490127, 0.554217,
        0.613373,    0.121737,  0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428,
        0.793132,    0.858516,  0.79751,  0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395,
        0.639268,    0.726104,  0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096,
        0.490127,    0.552157,  0.689874, 0.553364, 0.490127, 0.42689};
    constexpr double y[kTemplatePoints] = {
        0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915,
        0.106454, 0.203352, 0.307009,  0.409805,  0.515625,  0.587326,  0.609345,  0.628106,  0.609345,
        0.587326, 0.216423, 0.178758,  0.179852,  0.231733,  0.245099,  0.244077,  0.231733,  0.179852,
        0.178758, 0.216423, 0.244077,  0.245099,  0.780233,  0.745405,  0.727388,  0.742578,  0.727388,
        0.745405, 0.780233, 0.864805,  0.902192,  0.909281,  0.902192,  0.864805,  0.784792,  0.778746,
        0.785343, 0.778746, 0.784792,  0.824182,  0.831803,  0.824182};
    std::array<cv::Point2d, kTemplatePoints> t;
    for (int i = 0; i < kTemplatePoints; ++i) t[i] = {x[i], y[i]};
    return t;
  }();
  return kTemplate;
}

const std::array<bool, kTemplatePoints>& TemplateUsed() {
  static const std::array<bool, kTemplatePoints> kUsed = [] {
    std::array<bool, kTemplatePoints> used{};
    for (int i = 0; i < kTemplatePoints; ++i) {
      const int landmark = kTemplateFirst + i;
      const bool brow = landmark >= 17 && landmark <= 26;
      const bool lower_lip = (landmark >= 55 && landmark <= 59) || (landmark >= 65 && landmark <= 67);
      used[i] = !brow && !lower_lip;
    }
    return used;
  }();
  return kUsed;
}

cv::Point2d TemplatePointInCrop(int index, const AlignOptions& options) {
  const cv::Point2d unit = MeanFaceTemplate().at(static_cast<size_t>(index - kTemplateFirst));
  const double padding = (options.coverage - 1.0) / 2.0;
  return (unit + cv::Point2d(padding, padding)) * (options.size / options.coverage);
}

namespace {
cv::Point2d TemplateMean(int first, int last, const AlignOptions& options) {
  cv::Point2d sum(0, 0);
  for (int i = first; i <= last; ++i) sum += TemplatePointInCrop(i, options);
  return sum / static_cast<double>(last - first + 1);
}
}  // namespace

cv::Point2d TemplateRightEyeInCrop(const AlignOptions& options) { return TemplateMean(kRightEyeFirst, kRightEyeLast, options); }
cv::Point2d TemplateLeftEyeInCrop(const AlignOptions& options) { return TemplateMean(kLeftEyeFirst, kLeftEyeLast, options); }

cv::Matx23d UmeyamaSimilarity(const std::vector<cv::Point2d>& from, const std::vector<cv::Point2d>& to) {
  CV_Assert(from.size() == to.size() && from.size() >= 2);
  const double n = static_cast<double>(from.size());
  cv::Point2d mean_from(0, 0), mean_to(0, 0);
  for (size_t i = 0; i < from.size(); ++i) {
    mean_from += from[i];
    mean_to += to[i];
  }
  mean_from /= n;
  mean_to /= n;
  // Covariance Sigma = 1/n sum (to - mu_to)(from - mu_from)^T and the source variance
  // (Umeyama 1991, eqs. 36-42).
  cv::Matx22d sigma = cv::Matx22d::zeros();
  double var_from = 0.0;
  for (size_t i = 0; i < from.size(); ++i) {
    const cv::Point2d a = from[i] - mean_from, b = to[i] - mean_to;
    sigma(0, 0) += b.x * a.x;
    sigma(0, 1) += b.x * a.y;
    sigma(1, 0) += b.y * a.x;
    sigma(1, 1) += b.y * a.y;
    var_from += a.dot(a);
  }
  sigma *= 1.0 / n;
  var_from /= n;
  if (var_from <= 1e-12) throw InputError("alignment: landmarks are degenerate (all points equal)");

  cv::Matx22d u, vt;
  cv::Matx21d w;
  cv::SVD::compute(sigma, w, u, vt);
  // S = diag(1, sign) keeps R a rotation (no reflection).
  cv::Matx22d s = cv::Matx22d::eye();
  if (cv::determinant(u) * cv::determinant(vt) < 0) s(1, 1) = -1.0;
  const cv::Matx22d r = u * s * vt;
  const double scale = (w(0) * s(0, 0) + w(1) * s(1, 1)) / var_from;
  const cv::Matx21d t = cv::Matx21d(mean_to.x, mean_to.y) - scale * (r * cv::Matx21d(mean_from.x, mean_from.y));
  return {scale * r(0, 0), scale * r(0, 1), t(0), scale * r(1, 0), scale * r(1, 1), t(1)};
}

cv::Matx23d AlignmentTransform(const Landmarks& points, const AlignOptions& options) {
  // Per-call vectors are small (33 points); thread_local keeps them allocated.
  thread_local std::vector<cv::Point2d> from, to;
  from.clear();
  to.clear();
  const auto& used = TemplateUsed();
  for (int i = 0; i < kTemplatePoints; ++i) {
    if (!used[i]) continue;
    from.emplace_back(points[kTemplateFirst + i].x, points[kTemplateFirst + i].y);
    to.push_back(TemplatePointInCrop(kTemplateFirst + i, options));
  }
  return UmeyamaSimilarity(from, to);
}

cv::Matx23d InvertTransform(const cv::Matx23d& m) {
  cv::Matx23d inv;
  cv::invertAffineTransform(m, inv);
  return inv;
}

cv::Point2f ApplyTransform(const cv::Matx23d& m, const cv::Point2f& p) {
  return {static_cast<float>(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)),
          static_cast<float>(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2))};
}

void Align(const cv::Mat& frame, const Landmarks& points, const AlignOptions& options, AlignedFace& out) {
  out.to_crop = AlignmentTransform(points, options);
  out.to_frame = InvertTransform(out.to_crop);
  // Cubic, not linear: a linear warp into the crop and back out lost a third of the face's
  // finest detail (eval's sharpness of an unchanged face: 0.67 linear, 0.87-0.94 cubic).
  core::WarpAffineCubic(frame, out.crop, out.to_crop, cv::Size(options.size, options.size));
  for (size_t i = 0; i < points.size(); ++i) out.crop_points[i] = ApplyTransform(out.to_crop, points[i]);
}

AlignedFace Align(const cv::Mat& frame, const Landmarks& points, const AlignOptions& options) {
  AlignedFace out;
  Align(frame, points, options, out);
  return out;
}

void ResizeAligned(const AlignedFace& face, int side, AlignedFace& out) {
  const double f = static_cast<double>(side) / face.crop.cols, shift = (f - 1.0) / 2.0;
  cv::resize(face.crop, out.crop, cv::Size(side, side), 0, 0, f < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  out.to_crop = face.to_crop * f;
  out.to_crop(0, 2) += shift;
  out.to_crop(1, 2) += shift;
  out.to_frame = InvertTransform(out.to_crop);
  for (size_t i = 0; i < face.crop_points.size(); ++i) {
    out.crop_points[i] = cv::Point2f(static_cast<float>(face.crop_points[i].x * f + shift),
                                     static_cast<float>(face.crop_points[i].y * f + shift));
  }
}

void WarpToFrame(const cv::Mat& crop, const cv::Mat& mask, const cv::Matx23d& to_frame, cv::Size frame_size,
                 cv::Mat& frame_out, cv::Mat& mask_out) {
  CV_Assert(!crop.empty());
  frame_out.create(frame_size, crop.type());
  mask_out.create(frame_size, CV_32F);
  frame_out.setTo(cv::Scalar::all(0));
  mask_out.setTo(cv::Scalar::all(0));
  // Only the crop's footprint in the frame needs warping: much cheaper for small faces in
  // large frames.
  std::vector<cv::Point2f> corners = {{0.f, 0.f},
                                      {static_cast<float>(crop.cols), 0.f},
                                      {static_cast<float>(crop.cols), static_cast<float>(crop.rows)},
                                      {0.f, static_cast<float>(crop.rows)}};
  for (cv::Point2f& c : corners) c = ApplyTransform(to_frame, c);
  const cv::Rect footprint = cv::boundingRect(corners) & cv::Rect(cv::Point(0, 0), frame_size);
  if (footprint.empty()) return;
  // Shift the transform so the footprint's corner is the origin.
  cv::Matx23d shifted = to_frame;
  shifted(0, 2) -= footprint.x;
  shifted(1, 2) -= footprint.y;
  cv::Mat frame_roi = frame_out(footprint), mask_roi = mask_out(footprint);
  cv::warpAffine(crop, frame_roi, shifted, footprint.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::Mat mask32;
  if (mask.empty()) {
    mask32 = cv::Mat(crop.size(), CV_32F, cv::Scalar(1.0));
  } else if (mask.depth() == CV_8U) {
    mask.convertTo(mask32, CV_32F, 1.0 / 255.0);
  } else {
    mask32 = mask;
  }
  cv::warpAffine(mask32, mask_roi, shifted, footprint.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
}

}  // namespace faceswap::face
