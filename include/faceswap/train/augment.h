#pragma once
// Training pairs from aligned faces: the input the encoder sees and the target the
// decoder must draw. OpenCV only; deterministic for a given cv::RNG state.
//
// Both images share a random similarity transform, a horizontal flip and a colour jitter
// (so the network does not learn one pose or one light). The input alone is then bent by
// a smooth random grid warp (the target stays unwarped): the decoder has to draw a clean
// face from a distorted one, which is what lets it draw person B from A's code.

#include <opencv2/core.hpp>

#include "faceswap/train/face_set.h"

namespace faceswap::train {

struct AugmentOptions {
  double rotation_degrees = 10.0;   // uniform in [-r, r]
  double zoom = 0.05;               // scale uniform in [1 - z, 1 + z]
  double shift = 0.05;              // translation uniform in [-s, s] of the side
  double flip_probability = 0.5;
  double brightness = 0.06;         // added to Lab lightness, fraction of the range
  double contrast = 0.08;           // lightness scaled by [1 - c, 1 + c]
  double color = 0.04;              // a and b channels shifted, fraction of the range
  int warp_grid = 5;                // control points per side of the random warp
  double warp_sigma = 0.02;         // their displacement, fraction of the side
  // Loss weights from the landmarks: eyes and mouth count this much more than the rest.
  double feature_weight = 3.0;
  // Share of pairs whose occlusion-network face has a synthetic occluder pasted over it
  // (blend/occluder.h); its target, input_mask, then leaves the occluder out.
  double occluder_share = 0.0;
  void Check() const;
};

struct TrainingPair {
  cv::Mat input;    // CV_8UC3, input_side x input_side: warped
  cv::Mat target;   // CV_8UC3, side x side: unwarped
  cv::Mat weight;   // CV_32FC1: 1 over the image, feature_weight on eyes and mouth
  cv::Mat mask;     // CV_32FC1 in {0, 1}: the face hull (target for hd's decoder mask)
  cv::Mat occluded_input;  // the input, or a copy with an occluder over it (occlusion network)
  cv::Mat input_mask;      // CV_32FC1 over the input: the hull less the occluder (its target)
};

// `warp` false gives the clean pair used for previews and evaluation (no transform,
// no jitter, no warp): input == target == the crop resized to side. `input_side` (0: side)
// is the input's side when the encoder sees smaller faces than the decoder draws: the
// input is the target's transformed and jittered face shrunk to it, then warped.
// `occluder_texture`: the picture occluders are cut from (e.g. another face's crop).
TrainingPair MakePair(const FaceSample& face, int side, const AugmentOptions& options, cv::RNG& rng,
                      bool augment = true, int input_side = 0, const cv::Mat& occluder_texture = cv::Mat());

// Eye and mouth regions (1 inside) and the face hull, drawn from 68 landmarks.
cv::Mat FeatureRegions(const std::array<cv::Point2f, 68>& points, cv::Size size);
cv::Mat FaceHull(const std::array<cv::Point2f, 68>& points, cv::Size size);

}  // namespace faceswap::train
