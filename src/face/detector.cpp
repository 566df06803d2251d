#include "faceswap/face/detector.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "faceswap/core/error.h"
#include "faceswap/face/model_files.h"

namespace faceswap::face {

void DetectorOptions::Check() const {
  if (upsample < 0 || upsample > 3) throw UsageError("detector upsample must be 0..3, got " + std::to_string(upsample));
  if (max_side != 0 && max_side < 160) {
    throw UsageError("detector max side must be 0 (off) or at least 160 pixels, got " + std::to_string(max_side));
  }
  if (min_face_size < 0) throw UsageError("minimum face size must be >= 0, got " + std::to_string(min_face_size));
}

struct Detector::Impl {
  DetectorOptions options;
  dlib::frontal_face_detector hog = dlib::get_frontal_face_detector();
  dlib::shape_predictor predictor;
  // Scratch buffers reused from frame to frame.
  cv::Mat small;
  cv::Mat gray;
  cv::Mat roi_gray;
  std::vector<dlib::rect_detection> detections;

  dlib::array2d<unsigned char> up;

  // HOG on `gray`, upsampled `levels` times, into `detections` in `gray`'s pixels.
  void Run(int levels) {
    dlib::cv_image<unsigned char> view(gray);
    detections.clear();
    if (levels == 0) {
      hog(view, detections, 0.0);
      return;
    }
    dlib::assign_image(up, view);
    for (int i = 0; i < levels; ++i) dlib::pyramid_up(up);
    hog(up, detections, 0.0);
    const double factor = std::pow(2.0, levels);
    for (auto& det : detections) {
      det.rect = dlib::rectangle(std::lround(det.rect.left() / factor), std::lround(det.rect.top() / factor),
                                 std::lround((det.rect.right() + 1) / factor) - 1, std::lround((det.rect.bottom() + 1) / factor) - 1);
    }
  }

  // `image` as 8-bit gray into `out` (BGR, BGRA and gray accepted).
  static void ToGray(const cv::Mat& image, cv::Mat& out) {
    switch (image.channels()) {
      case 1: image.copyTo(out); break;
      case 3: cv::cvtColor(image, out, cv::COLOR_BGR2GRAY); break;
      case 4: cv::cvtColor(image, out, cv::COLOR_BGRA2GRAY); break;
      default: throw InputError("face detector: unsupported image with " + std::to_string(image.channels()) + " channels");
    }
  }
};

Detector::Detector(const DetectorOptions& options) : impl_(std::make_unique<Impl>()) {
  options.Check();
  impl_->options = options;
  const std::filesystem::path model = ResolveModelFile(ModelFile::kLandmarks68, options.landmark_model);
  try {
    dlib::deserialize(model.string()) >> impl_->predictor;
  } catch (const std::exception& e) {
    throw InputError(model, std::string("not a dlib shape predictor model (") + e.what() + ")");
  }
  if (impl_->predictor.num_parts() != 68) {
    throw InputError(model, "landmark model has " + std::to_string(impl_->predictor.num_parts()) +
                                " points; faceswap needs the 68-point model");
  }
}

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

const DetectorOptions& Detector::options() const { return impl_->options; }

std::vector<Face> Detector::DetectBoxes(const cv::Mat& image) {
  if (image.empty()) return {};
  if (image.depth() != CV_8U) throw InputError("face detector: image must be 8-bit");
  Impl& d = *impl_;
  const int longer = std::max(image.cols, image.rows);
  double scale = 1.0;  // detection image pixels per frame pixel
  const cv::Mat* source = &image;
  if (d.options.max_side > 0 && longer > d.options.max_side) {
    scale = static_cast<double>(d.options.max_side) / longer;
    cv::resize(image, d.small, cv::Size(), scale, scale, cv::INTER_AREA);
    source = &d.small;
  }
  Impl::ToGray(*source, d.gray);
  d.Run(d.options.upsample);
  if (d.detections.empty() && d.options.upsample_when_empty) d.Run(d.options.upsample + 1);
  std::vector<Face> faces;
  faces.reserve(d.detections.size());
  for (const auto& det : d.detections) {
    Face face;
    // dlib rectangles are inclusive: width = right - left + 1.
    face.box = cv::Rect2f(static_cast<float>(det.rect.left() / scale), static_cast<float>(det.rect.top() / scale),
                          static_cast<float>(det.rect.width() / scale), static_cast<float>(det.rect.height() / scale));
    face.score = static_cast<float>(det.detection_confidence);
    if (face.box.width < static_cast<float>(d.options.min_face_size)) continue;
    faces.push_back(face);
  }
  std::sort(faces.begin(), faces.end(), [](const Face& a, const Face& b) { return a.box.area() > b.box.area(); });
  return faces;
}

std::vector<Face> Detector::Detect(const cv::Mat& image) {
  std::vector<Face> faces = DetectBoxes(image);
  for (Face& face : faces) {
    const float score = face.score;
    face = FitLandmarks(image, face.box);
    face.score = score;
  }
  return faces;
}

Face Detector::FitLandmarks(const cv::Mat& image, const cv::Rect2f& box) {
  Impl& d = *impl_;
  Face face;
  face.box = box;
  if (image.empty()) return face;
  // The predictor's pixel samples are anchored to the mean shape placed in the box; they
  // reach a little beyond it, so convert the box plus a half-box margin to gray.
  const float mx = box.width * 0.5f, my = box.height * 0.5f;
  const cv::Rect roi = cv::Rect(cv::Point(static_cast<int>(std::floor(box.x - mx)), static_cast<int>(std::floor(box.y - my))),
                                cv::Point(static_cast<int>(std::ceil(box.br().x + mx)), static_cast<int>(std::ceil(box.br().y + my)))) &
                       cv::Rect(0, 0, image.cols, image.rows);
  if (roi.empty()) {
    face.score = 0.0f;
    return face;
  }
  Impl::ToGray(image(roi), d.roi_gray);
  dlib::cv_image<unsigned char> view(d.roi_gray);
  const dlib::rectangle rect(std::lround(box.x - roi.x), std::lround(box.y - roi.y),
                             std::lround(box.x - roi.x + box.width) - 1, std::lround(box.y - roi.y + box.height) - 1);
  const dlib::full_object_detection shape = d.predictor(view, rect);
  for (unsigned long i = 0; i < 68; ++i) {
    face.points[i] = cv::Point2f(static_cast<float>(shape.part(i).x() + roi.x), static_cast<float>(shape.part(i).y() + roi.y));
  }
  face.score = 1.0f;
  return face;
}

}  // namespace faceswap::face
