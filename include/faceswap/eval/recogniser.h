#pragma once
// The identity judge of `faceswap eval`: OpenCV contrib's LBPH face recogniser (local
// binary pattern histograms; Ahonen, Hadid & Pietikainen, ECCV 2004), which shares nothing
// with the model it judges. It sees only the inner face (eyes to mouth, from the
// landmarks), in grey, so hair, background and colour do not decide.

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

#include "faceswap/face/face.h"

namespace faceswap::eval {

// The inner face of an aligned crop: the box of landmarks 17-67 (crop pixels) less
// kInnerFaceMargin of its size on every side, grey, kInnerFaceSide square,
// histogram-equalised. The margin drops the brows and the hull's edge, where a swap is
// feathered into the original face; measured on the shared clips, a real face of B pasted
// over A was called B 68% of the time with no margin and 86% with 0.2.
inline constexpr int kInnerFaceSide = 96;
inline constexpr double kInnerFaceMargin = 0.2;
cv::Mat InnerFace(const cv::Mat& crop, const face::Landmarks& crop_points);

struct LabelledFace {
  cv::Mat inner;     // InnerFace
  int identity = 0;
  int64_t group = 0; // faces of one group (a run of neighbouring frames) are near copies
};

// Classifies each probe with a recogniser trained on the real faces of every identity,
// leaving out the real faces of the probe's own group, so that no probe is judged against
// itself or its neighbours: the groups, in sorted order, are dealt into `folds` folds and
// one recogniser is trained per fold. Returns the identity each probe was given.
// False (and nothing classified) when OpenCV's face module is not in this build.
bool ClassifyLeavingGroupsOut(const std::vector<LabelledFace>& real, const std::vector<LabelledFace>& probes,
                              int folds, std::vector<int>& verdicts);

}  // namespace faceswap::eval
