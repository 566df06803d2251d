#include "faceswap/blend/occluder.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "faceswap/core/error.h"

namespace faceswap::blend {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A random point of the face (non-zero pixel of `face`), or the image's centre when a few
// draws miss it.
cv::Point2d PointOnFace(const cv::Mat& face, cv::RNG& rng) {
  for (int tries = 0; tries < 32; ++tries) {
    const int x = rng.uniform(0, face.cols), y = rng.uniform(0, face.rows);
    const bool on = face.depth() == CV_8U ? face.at<uchar>(y, x) != 0 : face.at<float>(y, x) > 0.5f;
    if (on) return {static_cast<double>(x), static_cast<double>(y)};
  }
  return {face.cols / 2.0, face.rows / 2.0};
}

cv::Point ToPixel(const cv::Point2d& p) { return {cvRound(p.x), cvRound(p.y)}; }

// A hand, a cup, a shoulder: a random polygon around `centre`, rounded by a blur.
void DrawBlob(cv::Mat& shape, const cv::Point2d& centre, double side, cv::RNG& rng) {
  const double radius = rng.uniform(0.12, 0.3) * side;
  const int corners = rng.uniform(5, 11);
  std::vector<cv::Point> polygon;
  const double start = rng.uniform(0.0, 2 * kPi);
  for (int i = 0; i < corners; ++i) {
    const double angle = start + 2 * kPi * i / corners + rng.uniform(-0.3, 0.3);
    const double r = radius * rng.uniform(0.55, 1.3);
    polygon.push_back(ToPixel(centre + cv::Point2d(r * std::cos(angle), r * std::sin(angle))));
  }
  cv::fillPoly(shape, std::vector<std::vector<cv::Point>>{polygon}, cv::Scalar(255), cv::LINE_AA);
  const double sigma = 0.05 * side;
  cv::GaussianBlur(shape, shape, cv::Size(), sigma);
  cv::threshold(shape, shape, 110, 255, cv::THRESH_BINARY);
}

// Fingers: two to four thick, round-ended strokes side by side, reaching in from outside
// the picture towards `centre`.
void DrawFingers(cv::Mat& shape, const cv::Point2d& centre, double side, cv::RNG& rng) {
  const double angle = rng.uniform(0.0, 2 * kPi);
  const cv::Point2d along(std::cos(angle), std::sin(angle)), across(-along.y, along.x);
  const int fingers = rng.uniform(2, 5);
  const double width = rng.uniform(0.06, 0.1) * side;
  for (int i = 0; i < fingers; ++i) {
    const double offset = (i - (fingers - 1) / 2.0) * width * 1.05;
    const cv::Point2d tip = centre + across * offset + along * rng.uniform(-0.08, 0.08) * side;
    const cv::Point2d root = tip - along * side;  // beyond the picture's edge
    cv::line(shape, ToPixel(root), ToPixel(tip), cv::Scalar(255), std::max(2, cvRound(width)), cv::LINE_AA);
  }
}

// A microphone's stand or a glasses frame: one straight bar across the picture.
void DrawBar(cv::Mat& shape, const cv::Point2d& centre, double side, cv::RNG& rng) {
  const double angle = rng.uniform(0.0, kPi);
  const cv::Point2d along(std::cos(angle), std::sin(angle));
  const int thickness = std::max(2, cvRound(rng.uniform(0.02, 0.07) * side));
  cv::line(shape, ToPixel(centre - along * 2 * side), ToPixel(centre + along * 2 * side), cv::Scalar(255), thickness,
           cv::LINE_AA);
}

// Hair: thin curved strands, most of them running the same way.
void DrawStrands(cv::Mat& shape, const cv::Point2d& centre, double side, cv::RNG& rng) {
  const int strands = rng.uniform(6, 20);
  const double angle = rng.uniform(0.0, 2 * kPi);
  for (int s = 0; s < strands; ++s) {
    const double a = angle + rng.uniform(-0.3, 0.3);
    cv::Point2d p = centre + cv::Point2d(rng.uniform(-0.15, 0.15) * side, rng.uniform(-0.15, 0.15) * side) -
                    cv::Point2d(std::cos(a), std::sin(a)) * 0.4 * side;
    std::vector<cv::Point> line{ToPixel(p)};
    double heading = a;
    for (int k = 0; k < 8; ++k) {
      heading += rng.uniform(-0.25, 0.25);
      p += cv::Point2d(std::cos(heading), std::sin(heading)) * 0.1 * side;
      line.push_back(ToPixel(p));
    }
    const int thickness = std::max(1, cvRound(rng.uniform(0.006, 0.02) * side));
    cv::polylines(shape, std::vector<std::vector<cv::Point>>{line}, false, cv::Scalar(255), thickness, cv::LINE_AA);
  }
}

// The occluder's surface, image-sized: cut from `texture` (rotated, scaled), or one colour
// (skin from the face, or dark/bright) with a smooth shading and a little grain.
cv::Mat Surface(const cv::Mat& image, const cv::Mat& face, const cv::Mat& texture, cv::RNG& rng) {
  const cv::Size size = image.size();
  const double kind = rng.uniform(0.0, 1.0);
  cv::Mat surface;
  if (!texture.empty() && kind < 0.6) {
    const cv::Point2f centre(static_cast<float>(rng.uniform(0.2, 0.8) * texture.cols),
                             static_cast<float>(rng.uniform(0.2, 0.8) * texture.rows));
    const double scale = size.width / (texture.cols * rng.uniform(0.25, 0.8));
    cv::Mat m = cv::getRotationMatrix2D(centre, rng.uniform(-180.0, 180.0), scale);
    m.at<double>(0, 2) += size.width / 2.0 - centre.x;
    m.at<double>(1, 2) += size.height / 2.0 - centre.y;
    cv::warpAffine(texture, surface, m, size, cv::INTER_LINEAR, cv::BORDER_REFLECT);
    return surface;
  }
  cv::Scalar colour;
  if (kind < 0.85) {
    cv::Mat on_face = face;
    if (face.depth() != CV_8U) on_face = face > 0.5f;
    colour = cv::mean(image, on_face) * rng.uniform(0.7, 1.25);
  } else {
    const double grey = rng.uniform(0.0, 1.0) < 0.6 ? rng.uniform(10.0, 70.0) : rng.uniform(170.0, 245.0);
    colour = cv::Scalar(grey + rng.uniform(-15.0, 15.0), grey + rng.uniform(-15.0, 15.0), grey + rng.uniform(-15.0, 15.0));
  }
  cv::Mat shading(2, 2, CV_32FC1);
  for (int i = 0; i < 4; ++i) shading.at<float>(i / 2, i % 2) = static_cast<float>(rng.uniform(0.75, 1.2));
  cv::resize(shading, shading, size, 0, 0, cv::INTER_LINEAR);
  cv::Mat grain(size, CV_32FC3);
  rng.fill(grain, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(rng.uniform(1.0, 6.0)));
  cv::Mat shaded;
  cv::merge(std::vector<cv::Mat>{shading, shading, shading}, shaded);
  surface = shaded.mul(cv::Mat(size, CV_32FC3, colour)) + grain;
  surface.convertTo(surface, CV_8UC3);
  return surface;
}

}  // namespace

cv::Mat PasteOccluder(cv::Mat& image, const cv::Mat& face, const cv::Mat& texture, cv::RNG& rng) {
  if (image.type() != CV_8UC3 || image.empty() || face.size() != image.size() ||
      (face.type() != CV_8UC1 && face.type() != CV_32FC1)) {
    throw UsageError("PasteOccluder needs a BGR image and a face mask of its size");
  }
  const double side = image.cols;
  const cv::Point2d centre = PointOnFace(face, rng);
  cv::Mat shape = cv::Mat::zeros(image.size(), CV_8UC1);
  const int kind = rng.uniform(0, 4);
  switch (kind) {
    case 0: DrawBlob(shape, centre, side, rng); break;
    case 1: DrawFingers(shape, centre, side, rng); break;
    case 2: DrawBar(shape, centre, side, rng); break;
    default: DrawStrands(shape, centre, side, rng); break;
  }
  cv::Mat coverage;
  shape.convertTo(coverage, CV_32FC1, 1.0 / 255);
  // Hard edges (a cup, a phone) or soft ones (out-of-focus fingers, motion blur); thin
  // shapes only a little soft, or they would fade away.
  const double softest = (kind < 2 ? 0.025 : 0.006) * side;
  const double sigma = rng.uniform(0.0, 1.0) < 0.5 ? 0.5 : rng.uniform(0.5, std::max(0.6, softest));
  cv::GaussianBlur(coverage, coverage, cv::Size(), sigma);

  const cv::Mat surface = Surface(image, face, texture, rng);
  cv::Mat a3, img, sur;
  cv::merge(std::vector<cv::Mat>{coverage, coverage, coverage}, a3);
  image.convertTo(img, CV_32FC3);
  surface.convertTo(sur, CV_32FC3);
  cv::Mat blended = img + a3.mul(sur - img);
  blended.convertTo(image, CV_8UC3);
  return coverage;
}

}  // namespace faceswap::blend
