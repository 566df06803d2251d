#include "faceswap/face/face.h"

#include <algorithm>
#include <cmath>

namespace faceswap::face {
namespace {
cv::Point2f MeanOf(const Landmarks& points, int first, int last) {
  cv::Point2f sum(0.f, 0.f);
  for (int i = first; i <= last; ++i) sum += points[i];
  return sum * (1.0f / static_cast<float>(last - first + 1));
}
}  // namespace

cv::Point2f RightEyeCentre(const Landmarks& points) { return MeanOf(points, kRightEyeFirst, kRightEyeLast); }
cv::Point2f LeftEyeCentre(const Landmarks& points) { return MeanOf(points, kLeftEyeFirst, kLeftEyeLast); }

double InterOcularDistance(const Landmarks& points) {
  const cv::Point2f d = LeftEyeCentre(points) - RightEyeCentre(points);
  return std::hypot(d.x, d.y);
}

cv::Rect2f LandmarkBounds(const Landmarks& points) {
  float x0 = points[0].x, y0 = points[0].y, x1 = x0, y1 = y0;
  for (const cv::Point2f& p : points) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace faceswap::face
