#include "faceswap/train/augment.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <vector>

#include "faceswap/blend/occluder.h"
#include "faceswap/core/error.h"

namespace faceswap::train {
namespace {

std::vector<cv::Point> ToPixels(const std::array<cv::Point2f, 68>& points, int first, int last) {
  std::vector<cv::Point> out;
  for (int i = first; i <= last; ++i) out.emplace_back(cvRound(points[i].x), cvRound(points[i].y));
  return out;
}

void FillHull(cv::Mat& image, const std::vector<cv::Point>& points) {
  std::vector<cv::Point> hull;
  cv::convexHull(points, hull);
  cv::fillConvexPoly(image, hull, cv::Scalar(1.0f), cv::LINE_AA);
}

// Lab jitter shared by input and target.
void JitterColour(cv::Mat& a, cv::Mat& b, const AugmentOptions& o, cv::RNG& rng) {
  const double brightness = rng.uniform(-o.brightness, o.brightness) * 255.0;
  const double contrast = 1.0 + rng.uniform(-o.contrast, o.contrast);
  const double da = rng.uniform(-o.color, o.color) * 255.0;
  const double db = rng.uniform(-o.color, o.color) * 255.0;
  for (cv::Mat* image : {&a, &b}) {
    cv::Mat lab;
    cv::cvtColor(*image, lab, cv::COLOR_BGR2Lab);
    std::vector<cv::Mat> ch;
    cv::split(lab, ch);
    ch[0].convertTo(ch[0], -1, contrast, brightness + (1.0 - contrast) * 128.0);
    ch[1].convertTo(ch[1], -1, 1.0, da);
    ch[2].convertTo(ch[2], -1, 1.0, db);
    cv::merge(ch, lab);
    cv::cvtColor(lab, *image, cv::COLOR_Lab2BGR);
  }
}

}  // namespace

void AugmentOptions::Check() const {
  if (rotation_degrees < 0 || zoom < 0 || zoom >= 1 || shift < 0 || flip_probability < 0 || flip_probability > 1 ||
      warp_grid < 3 || warp_sigma < 0 || feature_weight < 1 || occluder_share < 0 || occluder_share > 1) {
    throw UsageError("augmentation options out of range");
  }
}

cv::Mat FeatureRegions(const std::array<cv::Point2f, 68>& points, cv::Size size) {
  cv::Mat regions = cv::Mat::zeros(size, CV_32FC1);
  // iBUG 68-point scheme: 36-41 right eye, 42-47 left eye, 48-59 outer lips.
  // Eyes include their brows (17-21, 22-26) so that gaze and brow shape count.
  std::vector<cv::Point> right = ToPixels(points, 36, 41), left = ToPixels(points, 42, 47);
  const auto right_brow = ToPixels(points, 17, 21), left_brow = ToPixels(points, 22, 26);
  right.insert(right.end(), right_brow.begin(), right_brow.end());
  left.insert(left.end(), left_brow.begin(), left_brow.end());
  FillHull(regions, right);
  FillHull(regions, left);
  FillHull(regions, ToPixels(points, 48, 59));
  const int grow = std::max(1, size.width / 32);
  cv::dilate(regions, regions, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * grow + 1, 2 * grow + 1)));
  return regions;
}

cv::Mat FaceHull(const std::array<cv::Point2f, 68>& points, cv::Size size) {
  cv::Mat hull = cv::Mat::zeros(size, CV_32FC1);
  FillHull(hull, ToPixels(points, 0, 26));  // jaw line and brows enclose the face
  return hull;
}

TrainingPair MakePair(const FaceSample& face, int side, const AugmentOptions& o, cv::RNG& rng, bool augment,
                      int input_side, const cv::Mat& occluder_texture) {
  if (input_side <= 0) input_side = side;
  const cv::Mat& crop = face.crop;
  const double scale_to_side = static_cast<double>(side) / crop.cols;
  std::array<cv::Point2f, 68> points = face.points;

  // 1. One similarity transform (crop -> side x side), shared by input and target.
  cv::Matx23d m(scale_to_side, 0, 0, 0, scale_to_side, 0);
  if (augment) {
    const double angle = rng.uniform(-o.rotation_degrees, o.rotation_degrees);
    const double zoom = 1.0 + rng.uniform(-o.zoom, o.zoom);
    const cv::Mat r = cv::getRotationMatrix2D(cv::Point2f(crop.cols * 0.5f, crop.rows * 0.5f), angle, zoom);
    cv::Matx23d rot(r.ptr<double>());  // getRotationMatrix2D returns CV_64F
    const double tx = rng.uniform(-o.shift, o.shift) * crop.cols;
    const double ty = rng.uniform(-o.shift, o.shift) * crop.rows;
    rot(0, 2) += tx;
    rot(1, 2) += ty;
    if (rng.uniform(0.0, 1.0) < o.flip_probability) {
      // Mirror after the rotation: x -> width - x.
      for (int c = 0; c < 3; ++c) rot(0, c) = -rot(0, c);
      rot(0, 2) += crop.cols;
      // Mirrored landmarks keep their indices' meaning only roughly; the regions drawn
      // from them are symmetric sets (both eyes, mouth), so that is enough here.
    }
    for (int c = 0; c < 3; ++c) {
      m(0, c) = rot(0, c) * scale_to_side;
      m(1, c) = rot(1, c) * scale_to_side;
    }
  }
  cv::Mat base;
  cv::warpAffine(crop, base, m, cv::Size(side, side), cv::INTER_AREA, cv::BORDER_REPLICATE);
  for (auto& p : points) {
    p = cv::Point2f(static_cast<float>(m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2)),
                    static_cast<float>(m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)));
  }

  const cv::Size size(side, side);
  const cv::Mat hull = FaceHull(points, size);

  TrainingPair pair;
  pair.target = base;
  pair.mask = hull;
  if (input_side == side) {
    pair.input = base.clone();
    pair.input_mask = hull.clone();
  } else {
    cv::resize(base, pair.input, cv::Size(input_side, input_side), 0, 0, cv::INTER_AREA);
    cv::resize(hull, pair.input_mask, cv::Size(input_side, input_side), 0, 0, cv::INTER_AREA);
  }
  if (augment) {
    JitterColour(pair.input, pair.target, o, rng);

    // 2. Random warp of the input only: a coarse grid of displacements, smooth after
    // bicubic upsampling, zero on the border so nothing outside the crop is pulled in.
    const int g = o.warp_grid;
    cv::Mat dx = cv::Mat::zeros(g, g, CV_32FC1), dy = cv::Mat::zeros(g, g, CV_32FC1);
    for (int y = 1; y < g - 1; ++y) {
      for (int x = 1; x < g - 1; ++x) {
        dx.at<float>(y, x) = static_cast<float>(rng.gaussian(o.warp_sigma * input_side));
        dy.at<float>(y, x) = static_cast<float>(rng.gaussian(o.warp_sigma * input_side));
      }
    }
    cv::resize(dx, dx, cv::Size(input_side, input_side), 0, 0, cv::INTER_CUBIC);
    cv::resize(dy, dy, cv::Size(input_side, input_side), 0, 0, cv::INTER_CUBIC);
    cv::Mat map_x(input_side, input_side, CV_32FC1), map_y(input_side, input_side, CV_32FC1);
    for (int y = 0; y < input_side; ++y) {
      float* mx = map_x.ptr<float>(y);
      float* my = map_y.ptr<float>(y);
      const float* ddx = dx.ptr<float>(y);
      const float* ddy = dy.ptr<float>(y);
      for (int x = 0; x < input_side; ++x) {
        mx[x] = static_cast<float>(x) + ddx[x];
        my[x] = static_cast<float>(y) + ddy[x];
      }
    }
    cv::Mat warped, warped_mask;
    cv::remap(pair.input, warped, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    cv::remap(pair.input_mask, warped_mask, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    pair.input = warped;
    pair.input_mask = warped_mask;
  }

  // 3. The occlusion network's face: the input, with a synthetic occluder over a share of
  // them. The autoencoder keeps the clean input: pasted into its inputs too, occluders cost
  // identity in the same training time (bench_quality, README).
  pair.occluded_input = pair.input;
  if (augment && o.occluder_share > 0 && rng.uniform(0.0, 1.0) < o.occluder_share) {
    pair.occluded_input = pair.input.clone();
    const cv::Mat covered = blend::PasteOccluder(pair.occluded_input, pair.input_mask, occluder_texture, rng);
    pair.input_mask = pair.input_mask.mul(1.0 - covered);
  }

  pair.weight = 1.0 + (o.feature_weight - 1.0) * FeatureRegions(points, size);
  return pair;
}

}  // namespace faceswap::train
