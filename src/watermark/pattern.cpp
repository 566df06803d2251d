#include "pattern.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace faceswap::watermark::detail {
namespace {

// The project's watermark key. It is public (this is an open-source provenance mark, not a
// secret): it only makes the pattern a specific one, so that random pictures do not match.
constexpr uint64_t kKey = 0x66616365'73776170ull;  // "faceswap"

// SplitMix64 (Steele, Lea, Flood 2014): fixed, portable pseudo-random numbers.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }

 private:
  uint64_t state_;
};

ChipLayout MakeLayout() {
  constexpr int kCount = kChips * kChips;
  constexpr int kPilots = kCount / 4;
  SplitMix rng(kKey);
  std::vector<int> order(kCount);
  std::iota(order.begin(), order.end(), 0);
  for (int i = kCount - 1; i > 0; --i) std::swap(order[i], order[rng.Below(i + 1)]);  // Fisher-Yates
  ChipLayout layout;
  layout.bit.assign(kCount, -1);
  layout.sign.resize(kCount);
  for (int k = kPilots; k < kCount; ++k) layout.bit[order[k]] = static_cast<int16_t>((k - kPilots) % kCodedBits);
  for (int c = 0; c < kCount; ++c) layout.sign[c] = (rng.Next() >> 63) ? 1.0f : -1.0f;
  return layout;
}

// Catmull-Rom (Keys 1981, a = -0.5): interpolating, so a chip's centre shows its own value.
double Cubic(double x) {
  x = std::abs(x);
  if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
  if (x < 2) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
  return 0;
}

}  // namespace

const ChipLayout& Layout() {
  static const ChipLayout layout = MakeLayout();
  return layout;
}

cv::Mat ChipValues(const std::vector<uint8_t>& coded) {
  const ChipLayout& layout = Layout();
  cv::Mat chips(kChips, kChips, CV_32F);
  for (int c = 0; c < kChips * kChips; ++c) {
    const int bit = layout.bit[c];
    const float value = bit < 0 ? 1.0f : (coded[bit] ? 1.0f : -1.0f);
    chips.at<float>(c / kChips, c % kChips) = layout.sign[c] * value;
  }
  return chips;
}

cv::Mat PilotChips() {
  const ChipLayout& layout = Layout();
  cv::Mat chips(kChips, kChips, CV_32F, cv::Scalar(0));
  for (int c = 0; c < kChips * kChips; ++c) {
    if (layout.bit[c] < 0) chips.at<float>(c / kChips, c % kChips) = layout.sign[c];
  }
  return chips;
}

cv::Mat InterpolationMatrix(int size) {
  cv::Mat k(kChips, size, CV_32F, cv::Scalar(0));
  for (int u = 0; u < size; ++u) {
    const double at = (u + 0.5) * kChips / size - 0.5;
    const int first = static_cast<int>(std::floor(at)) - 1;
    for (int j = first; j <= first + 3; ++j) {
      const int chip = ((j % kChips) + kChips) % kChips;
      k.at<float>(chip, u) += static_cast<float>(Cubic(at - j));
    }
  }
  return k;
}

cv::Mat RenderTile(const cv::Mat& chips, int size) {
  const cv::Mat k = InterpolationMatrix(size);
  cv::Mat half, tile;
  cv::gemm(k, chips, 1.0, cv::noArray(), 0.0, half, cv::GEMM_1_T);  // size x kChips
  cv::gemm(half, k, 1.0, cv::noArray(), 0.0, tile);                 // size x size
  return tile;
}

cv::Mat ChipEvidence(const cv::Mat& tile) {
  const cv::Mat k = InterpolationMatrix(tile.rows);
  cv::Mat half, chips;
  cv::gemm(k, tile, 1.0, cv::noArray(), 0.0, half);                  // kChips x size
  cv::gemm(half, k, 1.0, cv::noArray(), 0.0, chips, cv::GEMM_2_T);  // kChips x kChips
  return chips;
}

int TileSizeFor(cv::Size frame) {
  const int tile = static_cast<int>(std::lround(std::min(frame.width, frame.height) / kTilesPerShortSide));
  return tile >= kMinTile ? tile : 0;
}

}  // namespace faceswap::watermark::detail
