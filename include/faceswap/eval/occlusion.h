#pragma once
// eval's occlusion figures: how well a model leaves things in front of the face alone.
//
// Each held-out face of the source gets a synthetic occluder (blend/occluder.h) drawn from
// a fixed seed and textured from the target's held-out faces (pictures training never
// saw), and is swapped exactly as convert swaps (pipeline::CompositeFace, the crop taken
// as the frame). Measured:
//   IoU   the model's mask (>= 0.5, inside the landmark hull, as --mask both blends) against
//         the truly visible face (hull and not covered), in the model's crop; NaN when the
//         swap returned no mask (--mask landmarks)
//   PSNR  the occluder's pixels over the face in the swapped picture against the occluded
//         original (pooled over the faces): high when the occluder is kept

#include "faceswap/eval/evaluate.h"

namespace faceswap::eval {

// The face's convex hull (all 68 landmarks) as an 8-bit mask of `size` (255 inside); eval
// measures inside it.
cv::Mat FaceHullMask(const face::Landmarks& points, cv::Size size);

struct OcclusionFigures {
  int faces = 0;
  double iou = 0;          // mean over faces
  // The same for the landmark hull alone (no learned mask): the figure a mask must beat.
  double hull_iou = 0;
  double psnr = 0;         // dB
  // To look at: a row per face for the first few faces: the occluded face, the learned
  // mask (white: drawn over), the swapped result. BGR.
  cv::Mat sheet;
};

OcclusionFigures MeasureOcclusion(const IdentityFaces& source, int target, const IdentityFaces& textures,
                                  const FaceRenderer& render, const EvalOptions& options);

}  // namespace faceswap::eval
