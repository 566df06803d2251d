#include "faceswap/pipeline/composite.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "faceswap/blend/mask.h"
#include "faceswap/core/error.h"

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

CompositeRegion CompositeFace(cv::Mat& frame, const face::Face& face_in_frame, const face::AlignedFace& aligned,
                              const model::SwapOutput& swapped, const CompositeOptions& o) {
  const int side = aligned.crop.cols;
  cv::Mat face = swapped.face;
  if (face.cols != side) cv::resize(face, face, cv::Size(side, side), 0, 0, cv::INTER_CUBIC);
  cv::Mat learned = swapped.mask;
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
  cv::Mat face_roi, covered;
  cv::warpAffine(face, face_roi, to_roi, roi.size(), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  cv::warpAffine(cv::Mat::ones(side, side, CV_32FC1), covered, to_roi, roi.size(), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(0));

  cv::Mat mask;
  const bool use_learned = !learned.empty() && o.mask != MaskSource::kLandmarks;
  const bool use_landmarks = o.mask != MaskSource::kLearned || learned.empty();
  if (use_landmarks) {
    std::vector<cv::Point2f> points;
    for (const auto& p : face_in_frame.points) points.emplace_back(p.x - static_cast<float>(roi.x), p.y - static_cast<float>(roi.y));
    blend::MaskOptions mo;
    mo.erode = static_cast<int>(std::lround(o.mask_erode * face_width));
    mo.feather = static_cast<int>(std::lround(o.mask_feather * face_width));
    mask = blend::HullMask(points, roi.size(), mo);
  }
  if (use_learned) {
    cv::Mat learned_roi;
    cv::warpAffine(learned, learned_roi, to_roi, roi.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
    mask = blend::CombineMasks(mask, learned_roi);
  }
  mask = mask.mul(covered);

  cv::Mat frame_roi = frame(roi);
  const cv::Mat blended = blend::Blend(o.blend, face_roi, frame_roi, mask, levels);
  blended.copyTo(frame_roi);
  return {roi, mask};
}

}  // namespace faceswap::pipeline
