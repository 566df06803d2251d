#include "faceswap/blend/multiband.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "faceswap/core/error.h"
#include "faceswap/core/scratch.h"

namespace faceswap::blend {
namespace {

// sum += mask * (diff - up_diff), per pixel; diff, up_diff, sum CV_32FC3, mask CV_32FC1.
void AddMaskedDetail(const cv::Mat& diff, const cv::Mat& up_diff, const cv::Mat& mask, cv::Mat& sum) {
  for (int y = 0; y < sum.rows; ++y) {
    const float* d = diff.ptr<float>(y);
    const float* u = up_diff.ptr<float>(y);
    const float* m = mask.ptr<float>(y);
    float* s = sum.ptr<float>(y);
    for (int x = 0; x < sum.cols; ++x) {
      const float w = m[x];
      s[3 * x] += w * (d[3 * x] - u[3 * x]);
      s[3 * x + 1] += w * (d[3 * x + 1] - u[3 * x + 1]);
      s[3 * x + 2] += w * (d[3 * x + 2] - u[3 * x + 2]);
    }
  }
}

// sum = mask * diff (the coarsest level: its own Gaussian residual).
void MaskedDiff(const cv::Mat& diff, const cv::Mat& mask, cv::Mat& sum) {
  for (int y = 0; y < sum.rows; ++y) {
    const float* d = diff.ptr<float>(y);
    const float* m = mask.ptr<float>(y);
    float* s = sum.ptr<float>(y);
    for (int x = 0; x < sum.cols; ++x) {
      s[3 * x] = m[x] * d[3 * x];
      s[3 * x + 1] = m[x] * d[3 * x + 1];
      s[3 * x + 2] = m[x] * d[3 * x + 2];
    }
  }
}

}  // namespace

void MultiBand::Blend(const cv::Mat& face, const cv::Mat& mask, int levels, int frame_low_levels, cv::Mat& frame) {
  if (face.type() != CV_8UC3 || frame.type() != CV_8UC3 || mask.type() != CV_32FC1 || face.size() != frame.size() ||
      mask.size() != frame.size()) {
    throw UsageError("blend: face and frame must be same-size 8-bit BGR, mask float of the same size");
  }
  levels = std::max(1, levels);
  // Pad to a multiple of 2^levels so every pyrDown/pyrUp pair restores the size exactly.
  const int unit = 1 << levels;
  const cv::Size padded((frame.cols + unit - 1) / unit * unit, (frame.rows + unit - 1) / unit * unit);
  const int right = padded.width - frame.cols, bottom = padded.height - frame.rows;
  cv::Mat face_pad = core::ScratchView(face_pad_, padded, CV_8UC3);
  cv::Mat frame_pad = core::ScratchView(frame_pad_, padded, CV_8UC3);
  cv::Mat mask_pad = core::ScratchView(mask_pad_, padded, CV_32FC1);
  // Face and mask may be views into a caller's larger scratch buffers: BORDER_ISOLATED
  // keeps their other pixels out. A frame region takes its border from the frame around it.
  cv::copyMakeBorder(face, face_pad, 0, bottom, 0, right, cv::BORDER_REFLECT | cv::BORDER_ISOLATED);
  cv::copyMakeBorder(frame, frame_pad, 0, bottom, 0, right, cv::BORDER_REFLECT);
  cv::copyMakeBorder(mask, mask_pad, 0, bottom, 0, right, cv::BORDER_REFLECT | cv::BORDER_ISOLATED);

  // Each level lives in its own buffer (a view of it, sized for this call).
  if (diff_.size() < static_cast<size_t>(levels + 1)) {
    diff_.resize(levels + 1);
    mask_.resize(levels + 1);
    sum_.resize(levels + 1);
  }
  std::vector<cv::Mat> diff(levels + 1), weight(levels + 1), sum(levels + 1);
  cv::Size size = padded;
  for (int i = 0; i <= levels; ++i, size = cv::Size(size.width / 2, size.height / 2)) {
    diff[i] = core::ScratchView(diff_[i], size, CV_32FC3);
    weight[i] = i == 0 ? mask_pad : core::ScratchView(mask_[i], size, CV_32FC1);
    sum[i] = core::ScratchView(sum_[i], size, CV_32FC3);
  }
  cv::subtract(face_pad, frame_pad, diff[0], cv::noArray(), CV_32F);
  for (int i = 0; i < levels; ++i) {
    cv::pyrDown(diff[i], diff[i + 1], diff[i + 1].size());
    cv::pyrDown(weight[i], weight[i + 1], weight[i + 1].size());
  }

  // Collapse from the coarsest level: level i counts from the finest (0); the coarsest
  // `frame_low_levels` keep the frame's own bands, i.e. add nothing of the difference.
  if (frame_low_levels > 0) {
    sum[levels].setTo(cv::Scalar::all(0));
  } else {
    MaskedDiff(diff[levels], weight[levels], sum[levels]);
  }
  for (int i = levels - 1; i >= 0; --i) {
    cv::pyrUp(sum[i + 1], sum[i], sum[i].size());
    const bool from_frame = i >= levels - frame_low_levels + 1;
    if (from_frame) continue;
    cv::Mat up_diff = core::ScratchView(up_diff_, diff[i].size(), CV_32FC3);
    cv::pyrUp(diff[i + 1], up_diff, up_diff.size());
    AddMaskedDetail(diff[i], up_diff, weight[i], sum[i]);
  }

  // frame += the collapsed masked difference, rounded and saturated as convertTo does.
  for (int y = 0; y < frame.rows; ++y) {
    uchar* g = frame.ptr<uchar>(y);
    const float* s = sum[0].ptr<float>(y);
    for (int x = 0; x < 3 * frame.cols; ++x) g[x] = cv::saturate_cast<uchar>(static_cast<float>(g[x]) + s[x]);
  }
}

}  // namespace faceswap::blend
