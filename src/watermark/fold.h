#pragma once
// The detector's signal processing, each piece keeping its buffers between frames:
// whitening the luma, folding a picture's tiles onto one tile, finding the pilots in a
// folded tile by correlation, and reading the coded bits' evidence out of it.

#include <opencv2/core.hpp>

#include <vector>

namespace faceswap::watermark::detail {

// High-pass and weigh a float luma picture so that the picture's own content, which
// dominates the low frequencies, weighs little, and busy areas (whose texture is noise to
// the detector) weigh far less than flat ones.
class Whitener {
 public:
  // `out` becomes the whitened picture (CV_32F, the size of `gray`).
  void Run(const cv::Mat& gray, double chip_pixels, cv::Mat& out);

 private:
  cv::Mat low_, energy_;
};

// The tiles of `period` pixels of a picture averaged onto one tile of `bins` x `bins`.
class Folder {
 public:
  void Run(const cv::Mat& picture, double period, int bins, cv::Mat& tile);

 private:
  std::vector<int> column_bin_;
  std::vector<float> column_count_, row_count_;
};

struct Sync {
  double relative_tile = 0;
  double score = -1e9;  // the correlation's peak over its spread
  cv::Point shift;      // the folded tile is the pattern moved by this many bins
};

// Finds the pilots in folded tiles of one size.
class PilotCorrelator {
 public:
  explicit PilotCorrelator(int bins);
  // `whitened`, when given, receives the tile's whitened spectrum (for CodedEvidence).
  Sync Run(const cv::Mat& tile, double relative_tile, cv::Mat* whitened = nullptr);

 private:
  cv::Mat pilot_, spectrum_, product_, correlation_;
  cv::Mat power_;
};

// Soft value of each coded bit (positive: a 1) from a whitened tile spectrum and the shift
// the pilots were found at.
std::vector<float> CodedEvidence(const cv::Mat& whitened_spectrum, cv::Point shift);

}  // namespace faceswap::watermark::detail
