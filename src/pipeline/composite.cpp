#include "faceswap/pipeline/composite.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "faceswap/blend/mask.h"
#include "faceswap/core/error.h"
#include "faceswap/core/scratch.h"
#include "faceswap/core/warp.h"

namespace faceswap::pipeline {

MaskSource ParseMaskSource(const std::string& name) {
  if (name == "landmarks") return MaskSource::kLandmarks;
  if (name == "learned") return MaskSource::kLearned;
  if (name == "both") return MaskSource::kBoth;
  throw UsageError("unknown mask '" + name + "' (expected landmarks, learned or both)");
}

void CompositeOptions::Check() const {
  if (mask_erode < -0.5 || mask_erode > 0.5 || mask_feather < 0 || mask_feather > 0.5) {
    throw UsageError("--mask-erode must be in [-0.5, 0.5] and --mask-feather in [0, 0.5] (fractions of the face width)");
  }
}

void KeepFeaturesDrawn(cv::Mat& mask, const face::Landmarks& crop_points, FeatureScratch& scratch) {
  cv::compare(mask, 0.5, scratch.covered, cv::CMP_LT);
  const int count = cv::connectedComponents(scratch.covered, scratch.labels, 8, CV_32S);
  if (count <= 1) return;  // nothing covered

  cv::Mat& features = scratch.features;
  features.create(mask.size(), CV_8UC1);
  features.setTo(0);
  auto fill = [&](int first, int last) {  // iBUG 68: 36-41 right eye, 42-47 left eye, 48-59 outer lips
    scratch.points.clear();
    for (int i = first; i <= last; ++i) scratch.points.emplace_back(cvRound(crop_points[i].x), cvRound(crop_points[i].y));
    cv::convexHull(scratch.points, scratch.hull);
    cv::fillConvexPoly(features, scratch.hull, cv::Scalar(255));
  };
  fill(36, 41);
  fill(42, 47);
  fill(48, 59);
  const int grow = std::max(1, mask.cols / 16);
  if (scratch.grow_kernel.rows != 2 * grow + 1) {
    scratch.grow_kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * grow + 1, 2 * grow + 1});
  }
  cv::dilate(features, features, scratch.grow_kernel);

  scratch.reaches_out.assign(static_cast<size_t>(count), 0);
  for (int y = 0; y < mask.rows; ++y) {
    const int* label = scratch.labels.ptr<int>(y);
    const uchar* feature = features.ptr<uchar>(y);
    for (int x = 0; x < mask.cols; ++x) {
      if (label[x] > 0 && !feature[x]) scratch.reaches_out[static_cast<size_t>(label[x])] = 1;
    }
  }
  // The patches kept as face, with the soft fringe around them (the mask's ramp from
  // covered to face, a few pixels wide), which would otherwise leave a faint ring of the
  // source's eye or lip around the swapped one; never past the features' regions, nor onto
  // a patch that reaches past them.
  cv::Mat& kept = scratch.covered;
  bool any = false;
  for (int y = 0; y < mask.rows; ++y) {
    const int* label = scratch.labels.ptr<int>(y);
    uchar* keep = kept.ptr<uchar>(y);
    for (int x = 0; x < mask.cols; ++x) {
      keep[x] = label[x] > 0 && !scratch.reaches_out[static_cast<size_t>(label[x])] ? 255 : 0;
      any = any || keep[x];
    }
  }
  if (!any) return;
  const int fringe = std::max(1, mask.cols / 32);
  if (scratch.fringe_kernel.rows != 2 * fringe + 1) {
    scratch.fringe_kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * fringe + 1, 2 * fringe + 1});
  }
  cv::dilate(kept, kept, scratch.fringe_kernel);
  for (int y = 0; y < mask.rows; ++y) {
    const int* label = scratch.labels.ptr<int>(y);
    const uchar* keep = kept.ptr<uchar>(y);
    const uchar* feature = features.ptr<uchar>(y);
    float* value = mask.ptr<float>(y);
    for (int x = 0; x < mask.cols; ++x) {
      const bool in_front = label[x] > 0 && scratch.reaches_out[static_cast<size_t>(label[x])];
      if (keep[x] && feature[x] && !in_front) value[x] = 1.0f;
    }
  }
}

void DropUnsureCovers(cv::Mat& mask, CoverScratch& scratch) {
  cv::compare(mask, 0.99, scratch.lowered, cv::CMP_LT);
  const int count = cv::connectedComponents(scratch.lowered, scratch.labels, 8, CV_32S);
  if (count <= 1) return;
  scratch.core.assign(static_cast<size_t>(count), 0);
  for (int y = 0; y < mask.rows; ++y) {
    const float* value = mask.ptr<float>(y);
    const int* label = scratch.labels.ptr<int>(y);
    for (int x = 0; x < mask.cols; ++x) {
      if (value[x] < kSureCovered) ++scratch.core[static_cast<size_t>(label[x])];
    }
  }
  const double min_core = kMinSureCore * static_cast<double>(mask.total());
  for (int y = 0; y < mask.rows; ++y) {
    float* value = mask.ptr<float>(y);
    const int* label = scratch.labels.ptr<int>(y);
    for (int x = 0; x < mask.cols; ++x) {
      if (label[x] > 0 && scratch.core[static_cast<size_t>(label[x])] < min_core) value[x] = 1.0f;
    }
  }
}

int HullEdgeBandPixels(int side) { return std::max(1, static_cast<int>(std::lround(kHullEdgeBand * side))); }

void HullCore(const std::vector<cv::Point2f>& points, cv::Size size, cv::Mat& core, cv::Mat& region) {
  blend::MaskOptions eroded;
  eroded.erode = HullEdgeBandPixels(size.width);
  core.create(size, CV_32FC1);
  blend::HullMaskInto(points, eroded, core);
  cv::compare(core, 0.5, region, cv::CMP_GT);
}

void PrepareModelMask(cv::Mat& mask, const face::AlignedFace& aligned_at_any_side, ModelMaskScratch& scratch) {
  const face::AlignedFace* at_side = &aligned_at_any_side;
  if (mask.cols != aligned_at_any_side.crop.cols) {
    face::ResizeAligned(aligned_at_any_side, mask.cols, scratch.resized);
    at_side = &scratch.resized;
  }
  const face::AlignedFace& aligned = *at_side;
  scratch.points.assign(aligned.crop_points.begin(), aligned.crop_points.end());
  scratch.inside.create(mask.size(), CV_32FC1);
  blend::HullMaskInto(scratch.points, {}, scratch.inside);
  HullCore(scratch.points, mask.size(), scratch.core, scratch.region);
  DropUnsureCovers(mask, scratch.covers);
  blend::DecideByColor(mask, aligned.crop, scratch.region, scratch.color);
  cv::subtract(scratch.inside, scratch.core, scratch.inside);  // 1 on the edge band, 0 elsewhere
  // The band is face only as far as the face just inside it is: where something covers the
  // face up to the band (a hand reaching in from outside), the band keeps the mask's value.
  mask.copyTo(scratch.near);
  cv::bitwise_not(scratch.region, scratch.outside);
  scratch.near.setTo(1.0f, scratch.outside);
  const int reach = 2 * (HullEdgeBandPixels(mask.cols) + 1) + 1;
  if (scratch.near_kernel.rows != reach) scratch.near_kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, {reach, reach});
  cv::erode(scratch.near, scratch.near, scratch.near_kernel);
  cv::multiply(scratch.inside, scratch.near, scratch.inside);
  cv::max(mask, scratch.inside, mask);
  KeepFeaturesDrawn(mask, aligned.crop_points, scratch.features);
}

namespace {

// Whether every pixel of `rect` (in the region) maps inside the crop of `side` px by the
// inverse of `to_roi`: a rectangle's corners do for all of it (the crop is convex). A
// bilinear warp of ones is 1 there (to float rounding), so the cut would change nothing.
bool InsideCrop(const cv::Rect& rect, const cv::Matx23d& to_roi, int side) {
  cv::Matx23d to_crop;
  cv::invertAffineTransform(to_roi, to_crop);
  const double x1 = rect.x + rect.width - 1, y1 = rect.y + rect.height - 1;
  for (const cv::Point2d corner : {cv::Point2d(rect.x, rect.y), cv::Point2d(x1, rect.y), cv::Point2d(rect.x, y1), cv::Point2d(x1, y1)}) {
    const double u = to_crop(0, 0) * corner.x + to_crop(0, 1) * corner.y + to_crop(0, 2);
    const double v = to_crop(1, 0) * corner.x + to_crop(1, 1) * corner.y + to_crop(1, 2);
    if (u < 0 || v < 0 || u > side - 1 || v > side - 1) return false;
  }
  return true;
}

// frame = original + keep * (frame - original), rounded to the nearest grey level as
// blend::AlphaBlend does, in place and without the float images AlphaBlend makes (whose fresh pages were most of the
// paste's time with a mask). Pixels whose keep is within 1/512 of 1 are left as they
// are: the blend would move them by under half a grey level.
void RestoreCovered(const cv::Mat& original, const cv::Mat& keep, cv::Mat& frame) {
  constexpr float kUnmoved = 1.0f - 1.0f / 512;
  for (int y = 0; y < frame.rows; ++y) {
    const float* k = keep.ptr<float>(y);
    const uchar* g = original.ptr<uchar>(y);
    uchar* f = frame.ptr<uchar>(y);
    for (int x = 0; x < frame.cols; ++x) {
      if (k[x] >= kUnmoved) continue;
      for (int c = 0; c < 3; ++c) {
        const float from = g[3 * x + c], to = f[3 * x + c];
        f[3 * x + c] = cv::saturate_cast<uchar>(from + k[x] * (to - from));
      }
    }
  }
}

// keep = 1 - hull * (1 - learned) (0 where the face is covered, 1 elsewhere) and
// hull = min(hull, learned), in one pass (four OpenCV passes before, the same floats).
void KeepAndVisible(const cv::Mat& learned, cv::Mat& hull, cv::Mat& keep) {
  for (int y = 0; y < hull.rows; ++y) {
    const float* l = learned.ptr<float>(y);
    float* h = hull.ptr<float>(y);
    float* k = keep.ptr<float>(y);
    for (int x = 0; x < hull.cols; ++x) {
      k[x] = 1.f - (1.f - l[x]) * h[x];
      h[x] = std::min(h[x], l[x]);
    }
  }
}

}  // namespace

FaceCompositor::FaceCompositor(const CompositeOptions& options) : options_(options) { options_.Check(); }

// The region reaches past the crop (by up to `pad` frame pixels): warping from the crop
// with its border replicated ahead of time keeps the warp on its fast interior path instead
// of extrapolating pixel by pixel, for the same pixels. The face is then enlarged in two
// steps, by the whole factor k with a cubic resize (separable, fast) and the rest of the
// way (rotation, a factor near 1) bilinearly: a fifth less time than one cubic warp
// (micro_bench CompositeFace 7.9 -> 6.2 ms), frames within 66 dB of it on person_b. Below
// a factor of 2 (a face drawn at 256 px) one cubic warp, core::WarpAffineCubic's.
cv::Mat FaceCompositor::WarpFaceIntoRegion(const cv::Mat& face, const cv::Matx23d& to_roi, cv::Size size, int pad) {
  const double crop_to_frame = std::sqrt(std::abs(to_roi(0, 0) * to_roi(1, 1) - to_roi(0, 1) * to_roi(1, 0)));
  const int border = static_cast<int>(std::ceil((pad + 4) / std::max(crop_to_frame, 1e-3))) + 4;
  cv::copyMakeBorder(face, face_border_, border, border, border, border, cv::BORDER_REPLICATE);
  cv::Matx33d shift(1, 0, border, 0, 1, border, 0, 0, 1);
  const cv::Matx33d roi_from_crop(to_roi(0, 0), to_roi(0, 1), to_roi(0, 2), to_roi(1, 0), to_roi(1, 1), to_roi(1, 2), 0, 0, 1);
  const cv::Matx33d roi_from_border = roi_from_crop * shift.inv();
  const cv::Matx23d to_roi_from_border(roi_from_border(0, 0), roi_from_border(0, 1), roi_from_border(0, 2),
                                       roi_from_border(1, 0), roi_from_border(1, 1), roi_from_border(1, 2));
  cv::Mat face_roi = core::ScratchView(face_roi_, size, CV_8UC3);
  const int k = static_cast<int>(std::lround(crop_to_frame));
  if (k >= 2) {
    cv::resize(face_border_, face_up_, cv::Size(), k, k, cv::INTER_CUBIC);
    // Pixel u of the enlarged face sits at (u + 0.5) / k - 0.5 of the bordered crop
    // (cv::resize's pixel centres).
    const double a = 1.0 / k, b = 0.5 / k - 0.5;
    const cv::Matx33d roi_from_up = roi_from_border * cv::Matx33d(a, 0, b, 0, a, b, 0, 0, 1);
    const cv::Matx23d to_roi_from_up(roi_from_up(0, 0), roi_from_up(0, 1), roi_from_up(0, 2), roi_from_up(1, 0),
                                     roi_from_up(1, 1), roi_from_up(1, 2));
    cv::warpAffine(face_up_, face_roi, to_roi_from_up, size, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  } else {
    core::WarpAffineCubic(face_border_, face_roi, to_roi_from_border, size);
  }
  return face_roi;
}

CompositeRegion FaceCompositor::Composite(cv::Mat& frame, const face::Face& face_in_frame,
                                          const face::AlignedFace& aligned, const model::SwapOutput& swapped) {
  const CompositeOptions& o = options_;
  const int side = aligned.crop.cols;
  cv::Mat face = swapped.face;
  if (face.cols != side) cv::resize(face, face, cv::Size(side, side), 0, 0, cv::INTER_CUBIC);
  cv::Mat learned = swapped.mask;
  if (!learned.empty() && o.mask != MaskSource::kLandmarks && !swapped.mask_outlines_face) {
    // At the mask's own side (the network's): a face drawn larger by exemplar detail has
    // no finer mask, and the work grows with the square of the side.
    learned = learned.clone();
    PrepareModelMask(learned, aligned, model_mask_);
  }
  if (!learned.empty() && learned.cols != side) cv::resize(learned, learned, cv::Size(side, side));

  // Colour statistics are taken in crop space, over the landmark hull.
  std::vector<cv::Point2f> crop_points(aligned.crop_points.begin(), aligned.crop_points.end());
  const cv::Mat crop_hull = blend::HullMask(crop_points, cv::Size(side, side), {});
  blend::TransferColor(o.color, face, aligned.crop, crop_hull);

  // Blend only where the mask can reach: the landmark hull grown by the feather, plus room
  // for the pyramid's widest band, inside the area the warped crop covers.
  const cv::Rect2f hull_box = face::LandmarkBounds(face_in_frame.points);
  const int face_width = std::max(8, static_cast<int>(hull_box.width));
  const int levels = blend::LevelsForFaceSize(face_width);
  const cv::Matx23d& to_frame = aligned.to_frame;
  std::vector<cv::Point2f> corners = {{0, 0}, {static_cast<float>(side), 0}, {0, static_cast<float>(side)},
                                      {static_cast<float>(side), static_cast<float>(side)}};
  cv::transform(corners, corners, to_frame);
  const int pad = 1 << (levels + 1);
  const int feather = static_cast<int>(std::lround(o.mask_feather * face_width));
  const int mask_erode = static_cast<int>(std::lround(o.mask_erode * face_width));
  const int reach = pad + static_cast<int>(std::ceil(o.mask_feather * face_width)) + 2;
  const cv::Rect crop_box = cv::boundingRect(corners);
  cv::Rect roi(static_cast<int>(hull_box.x) - reach, static_cast<int>(hull_box.y) - reach,
               static_cast<int>(hull_box.width) + 2 * reach, static_cast<int>(hull_box.height) + 2 * reach);
  roi &= cv::Rect(crop_box.x - pad, crop_box.y - pad, crop_box.width + 2 * pad, crop_box.height + 2 * pad);
  roi &= cv::Rect(0, 0, frame.cols, frame.rows);
  if (roi.width < 8 || roi.height < 8) return {};

  cv::Matx23d to_roi = to_frame;
  to_roi(0, 2) -= roi.x;
  to_roi(1, 2) -= roi.y;
  cv::Mat face_roi = WarpFaceIntoRegion(face, to_roi, roi.size(), pad);

  // The landmark mask is zero beyond the hull box grown by the dilation (a negative erosion)
  // and the feather's blur, so it is drawn, blurred and cut to the crop inside that box
  // only. The box also keeps a band of zeros as wide as the blur, so that the blur's border
  // rule at the box's edge reads the same zeros the whole region would have: same pixels.
  cv::Mat mask = core::ScratchView(mask_, roi.size(), CV_32FC1);
  const bool use_learned = !learned.empty() && o.mask != MaskSource::kLandmarks;
  const bool use_landmarks = o.mask != MaskSource::kLearned || learned.empty() || !swapped.mask_outlines_face;
  cv::Rect support(0, 0, roi.width, roi.height);
  if (use_landmarks) {
    const int grow = std::max(0, -mask_erode) + 2 * feather + 4;
    support &= cv::Rect(static_cast<int>(std::floor(hull_box.x)) - roi.x - grow,
                        static_cast<int>(std::floor(hull_box.y)) - roi.y - grow,
                        static_cast<int>(std::ceil(hull_box.width)) + 2 * grow + 2,
                        static_cast<int>(std::ceil(hull_box.height)) + 2 * grow + 2);
    mask.setTo(cv::Scalar(0));
    std::vector<cv::Point2f> points;
    for (const auto& p : face_in_frame.points) {
      points.emplace_back(p.x - static_cast<float>(roi.x + support.x), p.y - static_cast<float>(roi.y + support.y));
    }
    blend::MaskOptions mo;
    mo.erode = mask_erode;
    mo.feather = feather;
    cv::Mat mask_support = mask(support);
    blend::HullMaskInto(points, mo, mask_support);
  }
  // With both masks, what covers the face (where the hull says face and the learned mask
  // does not) gets its own pixels back after the blend: the pyramid blend mixes the face's
  // low frequencies across the mask's edge, which over a hand in front of the face would
  // paint it with the face's colours. Along the hull's border (the feather) the blend's
  // seam stays as it was.
  const bool restore_covered = use_learned && use_landmarks;
  cv::Mat learned_roi, keep, original;
  if (use_learned) {
    learned_roi = core::ScratchView(learned_roi_, roi.size(), CV_32FC1);
    cv::warpAffine(learned, learned_roi, to_roi, roi.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
    if (use_landmarks) {
      keep = core::ScratchView(keep_, roi.size(), CV_32FC1);
      KeepAndVisible(learned_roi, mask, keep);
    } else {
      learned_roi.copyTo(mask);
    }
  }
  // Outside the warped crop there is no face: the mask is cut there. (The support usually
  // lies inside the crop, whose corners reach well past the face: then nothing is cut.)
  if (!support.empty() && !InsideCrop(support, to_roi, side)) {
    cv::Matx23d to_support = to_roi;
    to_support(0, 2) -= support.x;
    to_support(1, 2) -= support.y;
    cv::Mat covered = core::ScratchView(covered_, support.size(), CV_32FC1);
    cv::warpAffine(cv::Mat::ones(side, side, CV_32FC1), covered, to_support, support.size(), cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT, cv::Scalar(0));
    cv::Mat mask_support = mask(support);
    cv::multiply(mask_support, covered, mask_support);
  }

  cv::Mat frame_roi = frame(roi);
  if (restore_covered) {
    original = core::ScratchView(original_roi_, roi.size(), CV_8UC3);
    frame_roi.copyTo(original);
  }
  if (o.blend == blend::BlendMethod::kMultiBand) {
    multiband_.Blend(face_roi, mask, levels, 0, frame_roi);
  } else {
    blend::Blend(o.blend, face_roi, frame_roi, mask, levels).copyTo(frame_roi);
  }
  if (restore_covered) {
    RestoreCovered(original, keep, frame_roi);
    cv::multiply(mask, keep, mask);
  }
  return {roi, mask};
}

CompositeRegion CompositeFace(cv::Mat& frame, const face::Face& face, const face::AlignedFace& aligned,
                              const model::SwapOutput& swapped, const CompositeOptions& options) {
  return FaceCompositor(options).Composite(frame, face, aligned, swapped);
}

}  // namespace faceswap::pipeline
