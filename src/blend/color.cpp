#include "faceswap/blend/color.h"

#include <opencv2/imgproc.hpp>

#include <array>

#include "faceswap/core/error.h"

namespace faceswap::blend {
namespace {

cv::Mat BinaryMask(const cv::Mat& mask) {
  cv::Mat binary;
  cv::compare(mask, 0.5, binary, cv::CMP_GT);
  return binary;
}

// Every other pixel of every other row, for statistics: a face of 128 px or more has
// thousands of pixels inside its hull, and a quarter of them estimate the same Lab means and
// deviations (within a fifth of a grey level on 100 real 256 px crops of each shared clip)
// at a quarter of the colour conversions.
cv::Mat Sampled(const cv::Mat& image) {
  if (image.cols < 128 || image.rows < 128) return image;
  cv::Mat sampled;
  cv::resize(image, sampled, {(image.cols + 1) / 2, (image.rows + 1) / 2}, 0, 0, cv::INTER_NEAREST);
  return sampled;
}

}  // namespace

ColorMethod ParseColorMethod(const std::string& name) {
  if (name == "none") return ColorMethod::kNone;
  if (name == "rct") return ColorMethod::kRct;
  if (name == "hist") return ColorMethod::kHist;
  throw UsageError("unknown colour method '" + name + "' (expected rct, hist or none)");
}

void TransferRct(cv::Mat& face, const cv::Mat& reference, const cv::Mat& mask) {
  const cv::Mat inside = BinaryMask(Sampled(mask));
  if (cv::countNonZero(inside) < 16) return;  // too few pixels for statistics
  cv::Mat face_lab, sampled_lab, ref_lab;
  cv::cvtColor(Sampled(face), sampled_lab, cv::COLOR_BGR2Lab);
  cv::cvtColor(Sampled(reference), ref_lab, cv::COLOR_BGR2Lab);
  cv::Scalar mean_src, std_src, mean_ref, std_ref;
  cv::meanStdDev(sampled_lab, mean_src, std_src, inside);
  cv::meanStdDev(ref_lab, mean_ref, std_ref, inside);
  cv::cvtColor(face, face_lab, cv::COLOR_BGR2Lab);
  // Each 8-bit Lab channel's affine map, as a table (the same rounding as computing it in
  // floats, at a fraction of the work on a 256 px face).
  cv::Mat table(1, 256, CV_8UC3);
  for (int c = 0; c < 3; ++c) {
    const double gain = std_src[c] > 1e-3 ? std_ref[c] / std_src[c] : 1.0;
    for (int level = 0; level < 256; ++level) {
      table.at<cv::Vec3b>(level)[c] = cv::saturate_cast<uchar>(gain * level + mean_ref[c] - mean_src[c] * gain);
    }
  }
  cv::LUT(face_lab, table, face_lab);
  cv::cvtColor(face_lab, face, cv::COLOR_Lab2BGR);
}

void TransferHistogram(cv::Mat& face, const cv::Mat& reference, const cv::Mat& mask) {
  const cv::Mat inside = BinaryMask(mask);
  if (cv::countNonZero(inside) < 16) return;
  cv::Mat face_lab, ref_lab;
  cv::cvtColor(face, face_lab, cv::COLOR_BGR2Lab);
  cv::cvtColor(reference, ref_lab, cv::COLOR_BGR2Lab);
  std::vector<cv::Mat> src, ref;
  cv::split(face_lab, src);
  cv::split(ref_lab, ref);
  for (int c = 0; c < 3; ++c) {
    std::array<double, 256> hs{}, hr{};
    for (int y = 0; y < inside.rows; ++y) {
      const uchar* m = inside.ptr<uchar>(y);
      const uchar* s = src[c].ptr<uchar>(y);
      const uchar* r = ref[c].ptr<uchar>(y);
      for (int x = 0; x < inside.cols; ++x) {
        if (m[x]) {
          hs[s[x]] += 1;
          hr[r[x]] += 1;
        }
      }
    }
    for (int i = 1; i < 256; ++i) {
      hs[i] += hs[i - 1];
      hr[i] += hr[i - 1];
    }
    // Map each source level to the reference level with the nearest cumulative share.
    cv::Mat lut(1, 256, CV_8U);
    int j = 0;
    for (int i = 0; i < 256; ++i) {
      const double share = hs[i] / hs[255];
      while (j < 255 && hr[j] / hr[255] < share) ++j;
      lut.at<uchar>(i) = static_cast<uchar>(j);
    }
    cv::LUT(src[c], lut, src[c]);
  }
  cv::merge(src, face_lab);
  cv::cvtColor(face_lab, face, cv::COLOR_Lab2BGR);
}

void TransferColor(ColorMethod method, cv::Mat& face, const cv::Mat& reference, const cv::Mat& mask) {
  switch (method) {
    case ColorMethod::kNone: return;
    case ColorMethod::kRct: TransferRct(face, reference, mask); return;
    case ColorMethod::kHist: TransferHistogram(face, reference, mask); return;
  }
}

}  // namespace faceswap::blend
