#include "plain_dlib.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <vector>

namespace faceswap::bench {

struct PlainDlib::Impl {
  dlib::frontal_face_detector hog = dlib::get_frontal_face_detector();
  dlib::shape_predictor predictor;
  double scale = 1.0;  // detection pixels per frame pixel of the last Boxes call
  std::vector<dlib::rectangle> boxes;

  void Detect(const cv::Mat& bgr, int max_side) {
    const int longer = std::max(bgr.cols, bgr.rows);
    scale = max_side > 0 && longer > max_side ? static_cast<double>(max_side) / longer : 1.0;
    cv::Mat small = bgr, gray;
    if (scale < 1.0) cv::resize(bgr, small, cv::Size(), scale, scale, cv::INTER_AREA);
    cv::cvtColor(small, gray, cv::COLOR_BGR2GRAY);
    boxes = hog(dlib::cv_image<unsigned char>(gray));
  }
};

PlainDlib::PlainDlib(const std::filesystem::path& landmark_model) : impl_(std::make_unique<Impl>()) {
  dlib::deserialize(landmark_model.string()) >> impl_->predictor;
}

PlainDlib::~PlainDlib() = default;

size_t PlainDlib::Boxes(const cv::Mat& bgr, int max_side) {
  impl_->Detect(bgr, max_side);
  return impl_->boxes.size();
}

size_t PlainDlib::BoxesAndLandmarks(const cv::Mat& bgr, int max_side) {
  impl_->Detect(bgr, max_side);
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  const dlib::cv_image<unsigned char> view(gray);
  const double back = 1.0 / impl_->scale;
  size_t points = 0;
  for (const dlib::rectangle& box : impl_->boxes) {
    const dlib::rectangle full(std::lround(box.left() * back), std::lround(box.top() * back),
                               std::lround(box.right() * back), std::lround(box.bottom() * back));
    points += impl_->predictor(view, full).num_parts();
  }
  return points;
}

long PlainDlib::Landmarks(const cv::Mat& bgr, const cv::Rect2f& box) {
  cv::Mat gray;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  const dlib::rectangle rect(std::lround(box.x), std::lround(box.y), std::lround(box.x + box.width) - 1,
                             std::lround(box.y + box.height) - 1);
  return impl_->predictor(dlib::cv_image<unsigned char>(gray), rect).part(30).x();
}

}  // namespace faceswap::bench
