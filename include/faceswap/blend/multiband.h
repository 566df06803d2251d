#pragma once
// blend::MultiBand: the multi-band blend of blend.h with its pyramids kept between calls,
// for per-frame use (convert blends every face of every frame).
//
// Burt & Adelson's blend joins the Laplacian pyramids of face F and frame G with the
// Gaussian pyramid of the mask M, level by level: L_i = L_i(G) + M_i * (L_i(F) - L_i(G)).
// Pyramids are linear, so L_i(F) - L_i(G) = L_i(F - G), and collapsing L_i(G) alone gives
// G back. The result is therefore G + collapse(M_i * L_i(F - G)): one pyramid of the
// difference instead of two, the same blend to float rounding (blend_test checks it
// against the two-pyramid form).
//
//   blend::MultiBand blender;                                     // one per worker thread
//   blender.Blend(face_roi, mask_roi, levels, 0, frame(roi));     // frame(roi) is rewritten

#include <opencv2/core.hpp>
#include <vector>

namespace faceswap::blend {

class MultiBand {
 public:
  // Blends `face` (8-bit BGR) into `frame` (8-bit BGR, same size, changed in place) where
  // `mask` (CV_32FC1 in [0, 1], same size) says, over `levels` octaves; the coarsest
  // `frame_low_levels` levels are taken from the frame alone. UsageError on other types.
  void Blend(const cv::Mat& face, const cv::Mat& mask, int levels, int frame_low_levels, cv::Mat& frame);

 private:
  cv::Mat face_pad_, frame_pad_, mask_pad_;  // inputs padded to a multiple of 2^levels
  std::vector<cv::Mat> diff_;                // Gaussian pyramid of face - frame (CV_32FC3)
  std::vector<cv::Mat> mask_;                // Gaussian pyramid of the mask (CV_32FC1)
  std::vector<cv::Mat> sum_;                 // the masked difference collapsed up to level i
  cv::Mat up_diff_;                          // pyrUp of the next coarser difference level
};

}  // namespace faceswap::blend
