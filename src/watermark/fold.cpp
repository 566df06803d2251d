#include "fold.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "pattern.h"

namespace faceswap::watermark::detail {
namespace {

cv::Size GaussianSize(double sigma) {
  const int half = std::max(1, static_cast<int>(std::lround(3 * sigma)));
  return {2 * half + 1, 2 * half + 1};
}

}  // namespace

// Both filters are half a chip wide (Gaussian sigma). A very local normalisation works
// best: in the design runs on the shared clips (crf 28, half size, cropped; 90 frames),
// energy windows of 0.5, 2 and 8 chips gave mean pilot scores of 10.3, 9.5 and 7.1 and
// decoded 81, 81 and 42 frames. Each pixel is weighed by the inverse of its local energy
// (plus a small floor), not its square root: the weight a matched filter gives a signal of
// about even amplitude in noise of that variance, so busy areas count for little and flat
// ones, where the mark is easy to see against the picture, for much. On the first 6 s of
// the shared clips marked at 1.1 grey levels (2026-12-04; frames read of 180: crf 28,
// half size, 10% crop, person_a / person_b) the square root read 23 / 173, 0 / 160 and
// 0 / 131; the inverse with a floor of 1 read 180 / 180, 163 / 180 and 100 / 180, with a
// floor of 0.1 180 / 180, 180 / 180 and 142 / 180 (0.03: the same; 3: worse).
void Whitener::Run(const cv::Mat& gray, double chip_pixels, cv::Mat& out) {
  const double sigma = 0.5 * chip_pixels;
  cv::GaussianBlur(gray, low_, GaussianSize(sigma), sigma);
  cv::subtract(gray, low_, low_);  // now the residual
  cv::multiply(low_, low_, energy_);
  cv::GaussianBlur(energy_, energy_, GaussianSize(sigma), sigma);
  cv::add(energy_, 0.1, energy_);  // grey levels squared: flat areas are not blown up
  cv::divide(low_, energy_, out);
}

void Folder::Run(const cv::Mat& picture, double period, int bins, cv::Mat& tile) {
  auto bin_of = [&](int i) {
    const double at = i / period;
    return std::min(bins - 1, static_cast<int>((at - std::floor(at)) * bins));
  };
  column_bin_.resize(picture.cols);
  column_count_.assign(bins, 0.0f);
  row_count_.assign(bins, 0.0f);
  for (int x = 0; x < picture.cols; ++x) {
    column_bin_[x] = bin_of(x);
    column_count_[column_bin_[x]] += 1;
  }
  tile.create(bins, bins, CV_32F);
  tile.setTo(0);
  for (int y = 0; y < picture.rows; ++y) {
    const int v = bin_of(y);
    row_count_[v] += 1;
    float* out = tile.ptr<float>(v);
    const float* in = picture.ptr<float>(y);
    const int* column = column_bin_.data();
    for (int x = 0; x < picture.cols; ++x) out[column[x]] += in[x];
  }
  // The bins are a grid of row bins times column bins, so their counts are products.
  for (int v = 0; v < bins; ++v) {
    float* out = tile.ptr<float>(v);
    for (int u = 0; u < bins; ++u) {
      const float n = row_count_[v] * column_count_[u];
      out[u] = n > 0 ? out[u] / n : 0.0f;
    }
  }
}

PilotCorrelator::PilotCorrelator(int bins) {
  cv::dft(RenderTile(PilotChips(), bins), pilot_, cv::DFT_COMPLEX_OUTPUT);
}

// The folded tile's noise (what is left of the picture) is far from white: most of it lies
// at the low frequencies of the pattern. Dividing the tile's spectrum by its own smoothed
// power makes the correlation a matched filter for that noise (the fold is mostly noise,
// so its power is the noise's power). On a marked photo this raised the pilots' score from
// 4.9 (at the level of noise) to 7.7.
Sync PilotCorrelator::Run(const cv::Mat& tile, double relative_tile, cv::Mat* whitened) {
  cv::dft(tile, spectrum_, cv::DFT_COMPLEX_OUTPUT);
  power_.create(tile.size(), CV_32F);
  const int count = static_cast<int>(tile.total());
  auto* z = spectrum_.ptr<float>();
  float* power = power_.ptr<float>();
  double total = 0;
  for (int i = 0; i < count; ++i) {
    power[i] = z[2 * i] * z[2 * i] + z[2 * i + 1] * z[2 * i + 1];
    total += power[i];
  }
  cv::blur(power_, power_, cv::Size(5, 5), cv::Point(-1, -1), cv::BORDER_REFLECT);
  const float floor = static_cast<float>(1e-6 * total / count + 1e-20);
  for (int i = 0; i < count; ++i) {
    const float scale = 1.0f / (power[i] + floor);
    z[2 * i] *= scale;
    z[2 * i + 1] *= scale;
  }
  cv::mulSpectrums(spectrum_, pilot_, product_, 0, /*conjB=*/true);
  cv::idft(product_, correlation_, cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
  Sync s;
  s.relative_tile = relative_tile;
  double peak = 0;
  cv::minMaxLoc(correlation_, nullptr, &peak, nullptr, &s.shift);
  cv::Scalar mean, spread;
  cv::meanStdDev(correlation_, mean, spread);
  s.score = spread[0] > 0 ? (peak - mean[0]) / spread[0] : 0;
  if (whitened) spectrum_.copyTo(*whitened);
  return s;
}

std::vector<float> CodedEvidence(const cv::Mat& whitened_spectrum, cv::Point shift) {
  cv::Mat tile;
  cv::idft(whitened_spectrum, tile, cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
  const int bins = tile.rows;
  cv::Mat aligned(bins, bins, CV_32F);
  for (int v = 0; v < bins; ++v) {
    const float* in = tile.ptr<float>((v + shift.y) % bins);
    float* out = aligned.ptr<float>(v);
    for (int u = 0; u < bins; ++u) out[u] = in[(u + shift.x) % bins];
  }
  const cv::Mat chips = ChipEvidence(aligned);
  const ChipLayout& layout = Layout();
  std::vector<float> soft(kCodedBits, 0.0f);
  for (int c = 0; c < kChips * kChips; ++c) {
    if (layout.bit[c] >= 0) soft[layout.bit[c]] += layout.sign[c] * chips.at<float>(c / kChips, c % kChips);
  }
  return soft;
}

}  // namespace faceswap::watermark::detail
