#pragma once
// model::ExemplarDetail: draws a decoder's small face at the crop's full side with detail
// taken from the person's own real crops (example-based super-resolution: Freeman, Jones
// and Pasztor 2002; Baker and Kanade's face hallucination 2000). Internal to the model
// module (includes LibTorch); convert and eval reach it through Swapper::SetExemplars.
//
// Each patch of the small face (a quarter of its side, every eighth) is compared, within a
// pixel of its place, with the same patch of the exemplars shrunk to the small side
// (squared difference of the luma after a light blur, each patch's mean removed so that
// light does not decide; only the exemplars whose whole face is nearest are searched). What the nearest
// K patches' crops have beyond their own enlargement (the crop minus the bicubic
// enlargement of its small copy) is added to the small face's bicubic enlargement,
// weighted by how near each one is, and overlapping patches are blended by a Hann window.
// The detail is the person's own, from another moment: bench/exemplar_detail_go_no_go.py
// and README ("Measuring quality") give what it does and does not give back.

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <vector>

namespace faceswap::model {

class ExemplarDetail {
 public:
  // `crops`: the person's aligned real crops, BGR 8-bit, all `side` x `side`, where `side`
  // is a multiple of `small_side` (the caller bounds their number: each takes 0.2 MB at
  // 256 px, and each face searches them all). With no crops the result is the bicubic
  // enlargement.
  ExemplarDetail(const std::vector<cv::Mat>& crops, int small_side, int side);

  int side() const { return side_; }
  int exemplars() const { return static_cast<int>(band_.size(0)); }

  // Faces N x 3 x small x small (RGB, [0, 1], float) -> N faces, BGR 8-bit, side x side
  // (the enlargement, the detail and the conversion in one pass over each face).
  std::vector<cv::Mat> Draw(const torch::Tensor& faces) const;

 private:
  struct PatchMatch {
    int64_t exemplar;
    int dy, dx;    // shift in small pixels
    float weight;  // the patch's matches add up to 1
  };
  // Buffers of one Draw call, reused for each of its faces.
  struct Scratch {
    std::vector<int64_t> candidates;
    std::vector<float> cost, sum, square, column, column_sq, weight;
    std::vector<int> order;
    std::vector<PatchMatch> matches;
    std::vector<const int8_t*> source;
  };
  torch::Tensor NearestFaces(const torch::Tensor& queries) const;  // N x small^2 -> N x candidates exemplar indices
  void MatchPatches(const float* query, Scratch& scratch) const;    // candidates -> matches
  void NearestPatches(int patches, Scratch& scratch) const;         // cost -> matches
  void AddDetail(Scratch& scratch, float* detail) const;
  torch::Tensor MatchingLuma(const torch::Tensor& faces) const;  // N x small^2

  int small_side_, side_, scale_;
  int patch_, stride_, search_;
  double blur_sigma_;              // of the Gaussian blur before matching
  torch::Tensor small_padded_;     // E x (small + 2 search) squared: luma, blurred, edge-padded, for matching
  torch::Tensor exemplar_flat_;    // E x small^2: the same, unpadded
  torch::Tensor exemplar_mean_;    // E
  torch::Tensor exemplar_energy_;  // E: |e|^2 - P mean^2 (NearestFaces)
  torch::Tensor band_;             // E x 3 x (side + 2 pad) squared, int8 grey levels: crop - enlarged small copy
  torch::Tensor window_;           // Hann, patch x scale square
  std::vector<float> inverse_window_sum_;  // side x side: 1 / the windows of all patches added up
};

}  // namespace faceswap::model
