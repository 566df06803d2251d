#include "faceswap/blend/color_evidence.h"

#include <algorithm>
#include <cmath>

namespace faceswap::blend {
namespace {

constexpr int kLevels = 16;  // per channel: 16^3 colour bins of 16 grey levels each
constexpr int kBins = kLevels * kLevels * kLevels;
constexpr float kSure = 0.1f;          // mask <= this: surely covered; >= 1 - this: surely face
constexpr double kMinCovered = 0.01;   // of the region, to learn the cover's colours from
constexpr double kMinFace = 0.2;       // of the region
// One colour's say, at most: odds of 20:1 for "covered", 2.7:1 for "face". A cover can
// have the face's colours (a hand), so that a colour is common on the face says little;
// that the face lacks one the cover has says much. Measured with eval on the 20-minute
// models of 2026-12-04 (lite / occlusion network, occ IoU a->b and b->a) and the moving
// patch of tests/pipeline/occlusion_slow_test.cpp on the same models: without colour
// 0.877 / 0.873, patch 26.0 dB; 0.866 / 0.864, 28.5 dB. Face odds capped at 20:1 (as
// cover): 0.889 / 0.887, 25.6 dB; 0.878 / 0.873, 26.8 dB, a hand drawn over. At 2.7:1:
// 0.888 / 0.886, 26.0 dB; 0.876 / 0.872, 27.6 dB. At 1:1 (colour only ever says
// "covered"): 0.883 / 0.881, 26.5 dB; 0.863 / 0.858, 28.9 dB, and 2 faces fewer taken for
// the target in either direction with the occlusion network.
constexpr float kMaxCoverOdds = 3.0f, kMaxFaceOdds = 1.0f;

int BinOf(const uint8_t* bgr) { return ((bgr[0] >> 4) * kLevels + (bgr[1] >> 4)) * kLevels + (bgr[2] >> 4); }

// [1 2 1] / 4 along each axis of the colour cube: neighbouring colours share their counts
// (light and shade move a colour by a bin or two).
void Smooth(std::vector<float>& h, std::vector<float>& tmp) {
  for (const int stride : {1, kLevels, kLevels * kLevels}) {
    tmp = h;
    for (int i = 0; i < kBins; ++i) {
      const int at = (i / stride) % kLevels;
      const float left = at > 0 ? tmp[i - stride] : tmp[i];
      const float right = at + 1 < kLevels ? tmp[i + stride] : tmp[i];
      h[i] = 0.25f * left + 0.5f * tmp[i] + 0.25f * right;
    }
  }
}

}  // namespace

void DecideByColor(cv::Mat& mask, const cv::Mat& image, const cv::Mat& region, ColorScratch& scratch) {
  CV_Assert(mask.type() == CV_32FC1 && image.type() == CV_8UC3 && region.type() == CV_8UC1);
  CV_Assert(mask.size() == image.size() && mask.size() == region.size());
  scratch.face.assign(kBins, 0.0f);
  scratch.covered.assign(kBins, 0.0f);
  double face = 0, covered = 0, inside = 0;
  for (int y = 0; y < mask.rows; ++y) {
    const float* m = mask.ptr<float>(y);
    const uint8_t* p = image.ptr<uint8_t>(y);
    const uint8_t* r = region.ptr<uint8_t>(y);
    for (int x = 0; x < mask.cols; ++x) {
      if (!r[x]) continue;
      ++inside;
      if (m[x] <= kSure) {
        scratch.covered[BinOf(p + 3 * x)] += 1;
        ++covered;
      } else if (m[x] >= 1 - kSure) {
        scratch.face[BinOf(p + 3 * x)] += 1;
        ++face;
      }
    }
  }
  if (covered < kMinCovered * inside || face < kMinFace * inside) return;

  Smooth(scratch.face, scratch.log_odds);
  Smooth(scratch.covered, scratch.log_odds);
  // Each colour's likelihood under either class (with a floor of half a pixel's count
  // spread over the bins, so that a colour neither has seen says nothing), as log odds
  // for "face".
  constexpr float kFloor = 0.5f / kBins;
  scratch.log_odds.resize(kBins);
  for (int i = 0; i < kBins; ++i) {
    const float f = static_cast<float>(scratch.face[i] / face) + kFloor;
    const float c = static_cast<float>(scratch.covered[i] / covered) + kFloor;
    scratch.log_odds[i] = std::clamp(std::log(f / c), -kMaxCoverOdds, kMaxFaceOdds);
  }
  // The mask's own odds plus the colour's. A mask of exactly 0 or 1 (a decided mask) stays;
  // one of 0.9 can go to 0.31 and one of 0.5 to 0.05 or 0.73.
  for (int y = 0; y < mask.rows; ++y) {
    float* m = mask.ptr<float>(y);
    const uint8_t* p = image.ptr<uint8_t>(y);
    const uint8_t* r = region.ptr<uint8_t>(y);
    for (int x = 0; x < mask.cols; ++x) {
      if (!r[x] || m[x] <= 0.0f || m[x] >= 1.0f) continue;
      const float odds = std::log(m[x] / (1 - m[x])) + scratch.log_odds[BinOf(p + 3 * x)];
      m[x] = 1.0f / (1.0f + std::exp(-odds));
    }
  }
}

}  // namespace faceswap::blend
