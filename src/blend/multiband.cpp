#include "faceswap/blend/multiband.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "faceswap/core/error.h"
#include "faceswap/core/scratch.h"

namespace faceswap::blend {
namespace {

// The mask's weights of four BGR pixels, each repeated for its three channels, as the three
// 4-float vectors over the pixels' twelve floats.
#if defined(__SSE2__)
inline void Spread3(const float* m, __m128& a, __m128& b, __m128& c) {
  const __m128 w = _mm_loadu_ps(m);                                   // w0 w1 w2 w3
  a = _mm_shuffle_ps(w, w, _MM_SHUFFLE(1, 0, 0, 0));                  // w0 w0 w0 w1
  b = _mm_shuffle_ps(w, w, _MM_SHUFFLE(2, 2, 1, 1));                  // w1 w1 w2 w2
  c = _mm_shuffle_ps(w, w, _MM_SHUFFLE(3, 3, 3, 2));                  // w2 w3 w3 w3
}
#endif

// sum += mask * (diff - up_diff), per pixel; diff, up_diff, sum CV_32FC3, mask CV_32FC1.
// (Four pixels at a time with SSE2: the compiler leaves the three-channel loop scalar.)
void AddMaskedDetail(const cv::Mat& diff, const cv::Mat& up_diff, const cv::Mat& mask, cv::Mat& sum) {
  for (int y = 0; y < sum.rows; ++y) {
    const float* d = diff.ptr<float>(y);
    const float* u = up_diff.ptr<float>(y);
    const float* m = mask.ptr<float>(y);
    float* s = sum.ptr<float>(y);
    int x = 0;
#if defined(__SSE2__)
    for (; x + 4 <= sum.cols; x += 4) {
      __m128 w[3];
      Spread3(m + x, w[0], w[1], w[2]);
      for (int k = 0; k < 3; ++k) {
        const int i = 3 * x + 4 * k;
        const __m128 detail = _mm_sub_ps(_mm_loadu_ps(d + i), _mm_loadu_ps(u + i));
        _mm_storeu_ps(s + i, _mm_add_ps(_mm_loadu_ps(s + i), _mm_mul_ps(w[k], detail)));
      }
    }
#endif
    for (; x < sum.cols; ++x) {
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

// frame += sum, rounded to the nearest (ties to even) and saturated, as
// cv::saturate_cast<uchar> does; sixteen values at a time with SSE2.
void AddRounded(const cv::Mat& sum, cv::Mat& frame) {
  const int n = 3 * frame.cols;
  for (int y = 0; y < frame.rows; ++y) {
    uchar* g = frame.ptr<uchar>(y);
    const float* s = sum.ptr<float>(y);
    int x = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; x + 16 <= n; x += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(g + x));
      const __m128i low = _mm_unpacklo_epi8(bytes, zero), high = _mm_unpackhi_epi8(bytes, zero);
      const __m128i v0 = _mm_cvtps_epi32(_mm_add_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(low, zero)), _mm_loadu_ps(s + x)));
      const __m128i v1 = _mm_cvtps_epi32(_mm_add_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(low, zero)), _mm_loadu_ps(s + x + 4)));
      const __m128i v2 = _mm_cvtps_epi32(_mm_add_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(high, zero)), _mm_loadu_ps(s + x + 8)));
      const __m128i v3 = _mm_cvtps_epi32(_mm_add_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(high, zero)), _mm_loadu_ps(s + x + 12)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(g + x),
                       _mm_packus_epi16(_mm_packs_epi32(v0, v1), _mm_packs_epi32(v2, v3)));
    }
#endif
    for (; x < n; ++x) g[x] = cv::saturate_cast<uchar>(static_cast<float>(g[x]) + s[x]);
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
  AddRounded(sum[0], frame);
}

}  // namespace faceswap::blend
