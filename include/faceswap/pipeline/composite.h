#pragma once
// pipeline::CompositeFace: puts one generated face back into its frame (colour match,
// mask, blend). Shared by convert and eval, so eval measures exactly what convert writes.

#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "faceswap/blend/blend.h"
#include "faceswap/blend/color.h"
#include "faceswap/blend/color_evidence.h"
#include "faceswap/blend/multiband.h"
#include "faceswap/face/align.h"
#include "faceswap/face/face.h"
#include "faceswap/model/swapper.h"

namespace faceswap::pipeline {

enum class MaskSource { kLandmarks, kLearned, kBoth };
MaskSource ParseMaskSource(const std::string& name);  // "landmarks" | "learned" | "both"

struct CompositeOptions {
  MaskSource mask = MaskSource::kBoth;   // kBoth falls back to landmarks without a learned mask
  double mask_erode = 0.02;         // fraction of the face width to shrink the hull by
  double mask_feather = 0.08;       // fraction of the face width to feather over
  blend::ColorMethod color = blend::ColorMethod::kRct;
  blend::BlendMethod blend = blend::BlendMethod::kMultiBand;
  void Check() const;               // UsageError
};

// The model's mask of what covers the face (every preset's but `hd`, whose decoder also
// outlines the face) made ready to blend with, in the crop, in four steps:
// 1. DropUnsureCovers (below).
// 2. Its doubtful pixels decided by colour (blend::DecideByColor) inside the landmark
//    hull, less its edge band (step 3 decides there).
// 3. Within kHullEdgeBand of the crop's side inside the hull it says "face" (1): near the
//    hull's edge the occlusion network's mask is its own blurred guess at that edge, which
//    the hull gives exactly. That guess cut a ring of visible face (6% of it): on the
//    20-minute default of 2026-12-04, eval's occ IoU was 0.823 / 0.832 with the ring,
//    below the hull alone (0.842 / 0.836), and 0.846 / 0.852 with this band. But only as
//    far as the face just inside the band is face: where the mask calls that covered (a
//    hand or a bar reaching in from outside the hull), the band keeps the mask's value,
//    or the swapped face showed as a stripe across the occluder along the hull's edge.
// 4. KeepFeaturesDrawn (below).
// `mask`: crop-sized CV_32FC1, changed in place; `aligned`: the crop the model drew from.
inline constexpr double kHullEdgeBand = 3.0 / 256;
int HullEdgeBandPixels(int side);  // kHullEdgeBand in pixels of a crop of this side, at least 1
// The landmark hull (`points` in crop pixels) less its edge band: CV_32FC1 `core` and its
// CV_8UC1 `region` (255 inside), both `size`.
void HullCore(const std::vector<cv::Point2f>& points, cv::Size size, cv::Mat& core, cv::Mat& region);

// A model draws eyes and mouths less exactly than the rest of the face (a gaze, a lid,
// teeth it never learnt), so its mask calls parts of them covered on faces that nothing
// covers, and convert would paste the source's own eye or lip into the swapped face. A
// covered patch (mask < 0.5) that lies wholly inside the eyes' or the mouth's region (their
// landmarks' hulls, grown by a sixteenth of the crop's side) is therefore taken for the
// model's drawing and kept as face, with its soft fringe (the patch grown by 1/32 of the
// crop, within those regions; it left a ring of the source's lid or lip line); a real
// occluder over an eye or the mouth reaches past it (a hand, a bar, a cup). `scratch`:
// buffers reused from call to call.
struct FeatureScratch {
  cv::Mat covered, labels, features, grow_kernel, fringe_kernel;
  std::vector<cv::Point> points, hull;
  std::vector<char> reaches_out;
};
void KeepFeaturesDrawn(cv::Mat& mask, const face::Landmarks& crop_points, FeatureScratch& scratch);

// A model also draws a face it knows a little wrong here and there (an expression it saw
// rarely, a lit cheek, a strand of hair by the jaw), and its mask then lowers small or
// faint patches of a face that nothing covers, where convert would keep the source's own
// pixels. What covers a face changes the redraw a great deal over a sizable area, so a
// lowered part of the mask (an 8-connected part under 0.99) stays only if it holds a core
// the mask is sure of (under kSureCovered: the redraw differs by about 5 of its medians)
// of at least kMinSureCore of the crop's area; the rest of the mask is set to 1 (face).
// Hysteresis, as in edge detection: the sure core decides, the unsure rim around it
// follows it. On the 20-minute default of 2026-12-06 the share of eval's clean faces'
// hulls left to the source went from 3.2% / 1.5% (a->b / b->a) to 1.0% / 0.03%, and its
// swaps are judged the target as often as with the hull alone (README, "Things in front
// of the face"); 0.5% and 2% of the crop were tried too.
inline constexpr float kSureCovered = 0.05f;
inline constexpr double kMinSureCore = 0.01;
struct CoverScratch {
  cv::Mat lowered, labels;
  std::vector<int> core;
};
void DropUnsureCovers(cv::Mat& mask, CoverScratch& scratch);

// Steps 1-4 above, at the mask's own side (the aligned face is resized to it when the face
// is drawn larger than the network draws its mask: exemplar detail); `scratch`: buffers
// reused from call to call.
struct ModelMaskScratch {
  face::AlignedFace resized;
  std::vector<cv::Point2f> points;
  cv::Mat inside, core, region, outside, near, near_kernel;
  blend::ColorScratch color;
  FeatureScratch features;
  CoverScratch covers;
};
void PrepareModelMask(cv::Mat& mask, const face::AlignedFace& aligned, ModelMaskScratch& scratch);

// Where a face went: the frame region that was rewritten and the blend mask over it
// (CV_32FC1 in [0, 1], roi-sized). Empty when the face was too small or off-frame.
struct CompositeRegion {
  cv::Rect roi;
  cv::Mat mask;
};

// Puts faces back into frames, keeping its buffers (warped face, masks, pyramids) from one
// face to the next: one per worker thread. `face` is the tracked face in frame pixels,
// `aligned` its crop (face::Align) and `swapped` what the model drew for that crop.
// Changes `frame` in place; the returned mask is valid until the next call.
class FaceCompositor {
 public:
  explicit FaceCompositor(const CompositeOptions& options);
  CompositeRegion Composite(cv::Mat& frame, const face::Face& face, const face::AlignedFace& aligned,
                            const model::SwapOutput& swapped);

 private:
  // The face (crop space) warped into the blended region, in face_roi_.
  cv::Mat WarpFaceIntoRegion(const cv::Mat& face, const cv::Matx23d& to_roi, cv::Size size, int pad);

  CompositeOptions options_;
  ModelMaskScratch model_mask_;
  cv::Mat face_border_, face_up_, face_roi_, covered_, mask_, learned_roi_, keep_, original_roi_;  // grown as faces need, then reused
  blend::MultiBand multiband_;
};

// One face with a compositor of its own (eval, tests): the same pixels as FaceCompositor.
CompositeRegion CompositeFace(cv::Mat& frame, const face::Face& face, const face::AlignedFace& aligned,
                              const model::SwapOutput& swapped, const CompositeOptions& options);

}  // namespace faceswap::pipeline
