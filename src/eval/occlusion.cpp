#include "faceswap/eval/occlusion.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <limits>

#include "faceswap/blend/occluder.h"

namespace faceswap::eval {
namespace {

// The seed of the held-out occluders: fixed, so that every eval draws the same set, and
// unlike any training seed's stream (training draws per step from its own seed).
constexpr uint64_t kOcclusionSeed = 0x0cc1d0e5;
constexpr int kSheetFaces = 6, kSheetSide = 128;

cv::Mat SheetTile(const cv::Mat& image) {
  cv::Mat tile;
  if (image.empty()) return cv::Mat(kSheetSide, kSheetSide, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::resize(image, tile, cv::Size(kSheetSide, kSheetSide), 0, 0, cv::INTER_AREA);
  if (tile.type() == CV_32FC1) tile.convertTo(tile, CV_8UC1, 255.0);
  if (tile.channels() == 1) cv::cvtColor(tile, tile, cv::COLOR_GRAY2BGR);
  return tile;
}

}  // namespace

cv::Mat FaceHullMask(const face::Landmarks& points, cv::Size size) {
  std::vector<cv::Point> pixels, hull;
  for (const cv::Point2f& p : points) pixels.emplace_back(cvRound(p.x), cvRound(p.y));
  cv::convexHull(pixels, hull);
  cv::Mat mask = cv::Mat::zeros(size, CV_8UC1);
  cv::fillConvexPoly(mask, hull, cv::Scalar(255));
  return mask;
}

OcclusionFigures MeasureOcclusion(const IdentityFaces& source, int target, const IdentityFaces& textures,
                                  const FaceRenderer& render, const EvalOptions& options) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  OcclusionFigures figures;
  std::vector<cv::Mat> occluded, coverages, hulls;
  std::vector<face::AlignedFace> aligned;
  std::vector<cv::Mat> crops;
  for (size_t i = 0; i < source.faces.size(); ++i) {
    const EvalFace& f = source.faces[i];
    cv::Mat picture = f.crop.clone();
    const cv::Mat hull = FaceHullMask(f.crop_points, picture.size());
    const cv::Mat& texture = textures.faces.empty() ? cv::Mat() : textures.faces[i % textures.faces.size()].crop;
    cv::RNG rng(kOcclusionSeed + i);
    coverages.push_back(blend::PasteOccluder(picture, hull, texture, rng));
    hulls.push_back(hull);
    aligned.push_back(face::Align(picture, f.crop_points, options.align));
    crops.push_back(aligned.back().crop);
    occluded.push_back(std::move(picture));
  }
  const std::vector<model::SwapOutput> drawn = render(crops, target);

  double iou_sum = 0, hull_iou_sum = 0, squared_error = 0, pixels = 0;
  int with_mask = 0;
  pipeline::ModelMaskScratch mask_scratch;
  std::vector<cv::Mat> rows;
  for (size_t i = 0; i < occluded.size(); ++i) {
    const EvalFace& f = source.faces[i];
    const cv::Size side = aligned[i].crop.size();
    cv::Mat shown_mask;  // the sheet's: the mask inside the hull, as convert uses it
    if (!drawn[i].mask.empty()) {
      // In the model's crop: what is visible, and what the mask keeps of the face.
      cv::Mat covered, hull, mask;
      cv::warpAffine(coverages[i], covered, aligned[i].to_crop, side, cv::INTER_LINEAR);
      hull = FaceHullMask(aligned[i].crop_points, side);
      mask = drawn[i].mask.clone();
      if (!drawn[i].mask_outlines_face) pipeline::PrepareModelMask(mask, aligned[i], mask_scratch);  // as convert
      if (mask.size() != side) cv::resize(mask, mask, side, 0, 0, cv::INTER_LINEAR);
      const cv::Mat visible = hull & (covered < 0.5f);
      const cv::Mat kept = hull & (mask >= 0.5f);
      const double united = cv::countNonZero(visible | kept);
      iou_sum += united > 0 ? cv::countNonZero(visible & kept) / united : 1.0;
      hull_iou_sum += static_cast<double>(cv::countNonZero(visible)) / std::max(1, cv::countNonZero(hull));
      ++with_mask;
      shown_mask = cv::Mat::zeros(side, CV_32FC1);
      mask.copyTo(shown_mask, hull);
    }
    face::Face in_crop;
    in_crop.points = f.crop_points;
    in_crop.box = face::LandmarkBounds(f.crop_points);
    cv::Mat canvas = occluded[i].clone();
    pipeline::CompositeFace(canvas, in_crop, aligned[i], drawn[i], options.composite);
    if (rows.size() < static_cast<size_t>(kSheetFaces)) {
      cv::Mat row;
      cv::hconcat(std::vector<cv::Mat>{SheetTile(occluded[i]), SheetTile(shown_mask), SheetTile(canvas)}, row);
      rows.push_back(row);
    }
    const cv::Mat occluder = hulls[i] & (coverages[i] > 0.5f);
    cv::Mat a, b, diff;
    occluded[i].convertTo(a, CV_32FC3);
    canvas.convertTo(b, CV_32FC3);
    cv::subtract(a, b, diff);
    diff = diff.mul(diff);
    diff.setTo(cv::Scalar::all(0), ~occluder);
    const cv::Scalar sum = cv::sum(diff);
    squared_error += sum[0] + sum[1] + sum[2];
    pixels += 3.0 * cv::countNonZero(occluder);
  }
  if (!rows.empty()) cv::vconcat(rows, figures.sheet);
  figures.faces = static_cast<int>(occluded.size());
  figures.iou = with_mask > 0 ? iou_sum / with_mask : nan;
  figures.hull_iou = with_mask > 0 ? hull_iou_sum / with_mask : nan;
  const double mse = pixels > 0 ? squared_error / pixels : nan;
  figures.psnr = std::isnan(mse) ? nan : mse <= 1e-10 ? 100.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
  return figures;
}

}  // namespace faceswap::eval
