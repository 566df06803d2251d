#include "faceswap/face/detector.h"

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <sstream>
#include <string>

#include "faceswap/core/error.h"
#include "faceswap/face/model_files.h"
#include "hog_detector.h"
#include "landmark_predictor.h"

namespace faceswap::face {
namespace {

// dlib's CNN face detector (mmod_human_face_detector.dat), declared as the file stores it:
// three 5x5 stride-2 convolutions (16, 32, 32 filters) shrink the image 8x, three 5x5
// convolutions of 45 filters follow, and one 9x9 filter scores each position; the input is
// an image pyramid (each level 5/6 of the last), trained with max-margin object detection
// (King, "Max-Margin Object Detection", arXiv 1502.00046). affine = batch norm folded.
template <long K, typename In> using Conv5Stride2 = dlib::con<K, 5, 5, 2, 2, In>;
template <long K, typename In> using Conv5 = dlib::con<K, 5, 5, 1, 1, In>;
template <typename In>
using Shrink8 = dlib::relu<dlib::affine<Conv5Stride2<32, dlib::relu<dlib::affine<Conv5Stride2<32,
                dlib::relu<dlib::affine<Conv5Stride2<16, In>>>>>>>>>;
template <typename In> using Features45 = dlib::relu<dlib::affine<Conv5<45, In>>>;
using CnnFaceNet = dlib::loss_mmod<dlib::con<1, 9, 9, 1, 1, Features45<Features45<Features45<
    Shrink8<dlib::input_rgb_image_pyramid<dlib::pyramid_down<6>>>>>>>>;

// The CNN's boxes sit differently on the face than HOG's, which the 68-point predictor was
// trained on. Measured on every 10th frame of both shared clips where each detector found
// the one face (112 frames, CNN at 480 px), as medians: the HOG box's centre lies 0.048
// (right) and 0.119 (down) of the CNN box's side from the CNN box's centre, and its side
// is 0.94 of the CNN's.
constexpr double kCnnShiftX = 0.048;
constexpr double kCnnShiftY = 0.119;
constexpr double kCnnScale = 0.94;

}  // namespace

DetectorKind ParseDetectorKind(const std::string& text) {
  if (text == "hog") return DetectorKind::kHog;
  if (text == "cnn") return DetectorKind::kCnn;
  if (text == "auto") return DetectorKind::kAuto;
  throw UsageError("detector must be hog, cnn or auto, got '" + text + "'");
}

std::string ToString(DetectorKind kind) {
  switch (kind) {
    case DetectorKind::kHog: return "hog";
    case DetectorKind::kCnn: return "cnn";
    case DetectorKind::kAuto: return "auto";
  }
  return "?";
}

void DetectorOptions::Check() const {
  if (upsample < 0 || upsample > 3) throw UsageError("detector upsample must be 0..3, got " + std::to_string(upsample));
  if (max_side != 0 && max_side < 160) {
    throw UsageError("detector max side must be 0 (off) or at least 160 pixels, got " + std::to_string(max_side));
  }
  if (min_face_size < 0) throw UsageError("minimum face size must be >= 0, got " + std::to_string(min_face_size));
  if (cnn_max_side < 120) throw UsageError("CNN detector side must be at least 120 pixels, got " + std::to_string(cnn_max_side));
}

struct Detector::Impl {
  DetectorOptions options;
  dlib::frontal_face_detector hog;
  LandmarkPredictor predictor;
  // Scratch buffers reused from frame to frame.
  cv::Mat small;
  cv::Mat gray;
  cv::Mat roi_gray;
  std::vector<dlib::rect_detection> detections;

  dlib::array2d<unsigned char> up;

  std::unique_ptr<CnnFaceNet> cnn;  // kCnn, or kAuto when its file is there
  cv::Mat cnn_small;
  int64_t cnn_runs = 0;

  // CNN boxes (frame pixels, moved onto HOG's convention) into `faces`.
  void RunCnn(const cv::Mat& image, std::vector<Face>& faces) {
    ++cnn_runs;
    const int longer = std::max(image.cols, image.rows);
    const double scale = std::min(1.0, static_cast<double>(options.cnn_max_side) / longer);
    cv::resize(image, cnn_small, cv::Size(), scale, scale, cv::INTER_AREA);
    if (cnn_small.channels() == 1) cv::cvtColor(cnn_small, cnn_small, cv::COLOR_GRAY2BGR);
    if (cnn_small.channels() == 4) cv::cvtColor(cnn_small, cnn_small, cv::COLOR_BGRA2BGR);
    dlib::matrix<dlib::rgb_pixel> rgb;
    dlib::assign_image(rgb, dlib::cv_image<dlib::bgr_pixel>(cnn_small));
    for (const dlib::mmod_rect& det : (*cnn)(rgb)) {
      const double w = (det.rect.right() + 1 - det.rect.left()) / scale;
      const double h = (det.rect.bottom() + 1 - det.rect.top()) / scale;
      const double cx = (det.rect.left() + det.rect.right() + 1) / (2 * scale) + kCnnShiftX * w;
      const double cy = (det.rect.top() + det.rect.bottom() + 1) / (2 * scale) + kCnnShiftY * w;
      Face face;
      face.box = cv::Rect2f(static_cast<float>(cx - w * kCnnScale / 2), static_cast<float>(cy - h * kCnnScale / 2),
                            static_cast<float>(w * kCnnScale), static_cast<float>(h * kCnnScale));
      face.score = static_cast<float>(det.detection_confidence);
      faces.push_back(face);
    }
  }

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

namespace detail {
extern const unsigned char kHogDetectorBytes[];
extern const std::size_t kHogDetectorSize;
}  // namespace detail

dlib::frontal_face_detector BuiltInHogDetector() {
  std::istringstream in(std::string(reinterpret_cast<const char*>(detail::kHogDetectorBytes), detail::kHogDetectorSize));
  dlib::frontal_face_detector detector;
  dlib::deserialize(detector, in);
  return detector;
}

Detector::Detector(const DetectorOptions& options) : impl_(std::make_unique<Impl>()) {
  options.Check();
  impl_->options = options;
  const std::filesystem::path model = ResolveModelFile(ModelFile::kLandmarks68, options.landmark_model);
  impl_->hog = BuiltInHogDetector();
  try {
    impl_->predictor.Load(model);
  } catch (const std::exception& e) {
    throw InputError(model, std::string("not a dlib shape predictor model (") + e.what() + ")");
  }
  if (impl_->predictor.num_parts() != 68) {
    throw InputError(model, "landmark model has " + std::to_string(impl_->predictor.num_parts()) +
                                " points; faceswap needs the 68-point model");
  }
  if (options.kind == DetectorKind::kHog) return;
  const ModelFileStatus cnn = CheckModelFile(ModelFile::kCnnDetector);
  if (!cnn.problem.empty()) {
    if (options.kind == DetectorKind::kCnn) throw InputError(cnn.path, cnn.problem);
    static std::once_flag warned;
    std::call_once(warned, [&] { spdlog::warn("{}: {}; detecting with HOG alone", cnn.path.string(), cnn.problem); });
    return;
  }
  impl_->cnn = std::make_unique<CnnFaceNet>();
  try {
    dlib::deserialize(cnn.path.string()) >> *impl_->cnn;
  } catch (const std::exception& e) {
    throw InputError(cnn.path, std::string("not dlib's CNN face detector (") + e.what() + ")");
  }
}

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

const DetectorOptions& Detector::options() const { return impl_->options; }
bool Detector::has_cnn() const { return impl_->cnn != nullptr; }
int64_t Detector::cnn_runs() const { return impl_->cnn_runs; }

float Detector::SmallestPlainFace(cv::Size frame_size) const {
  const Impl& d = *impl_;
  const int longer = std::max(frame_size.width, frame_size.height);
  const double scale = d.options.max_side > 0 && longer > d.options.max_side ? static_cast<double>(d.options.max_side) / longer : 1.0;
  return static_cast<float>(80.0 / scale / static_cast<double>(1 << d.options.upsample));
}

std::vector<Face> Detector::DetectBoxes(const cv::Mat& image, DetectEffort effort, int max_side) {
  if (image.empty()) return {};
  if (image.depth() != CV_8U) throw InputError("face detector: image must be 8-bit");
  Impl& d = *impl_;
  std::vector<Face> faces;
  auto largest_first = [&] {
    faces.erase(std::remove_if(faces.begin(), faces.end(),
                               [&](const Face& f) { return f.box.width < static_cast<float>(d.options.min_face_size); }),
                faces.end());
    std::sort(faces.begin(), faces.end(), [](const Face& a, const Face& b) { return a.box.area() > b.box.area(); });
  };
  if (d.options.kind == DetectorKind::kCnn) {
    d.RunCnn(image, faces);
    largest_first();
    return faces;
  }
  const int longer = std::max(image.cols, image.rows);
  double scale = 1.0;  // detection image pixels per frame pixel
  const cv::Mat* source = &image;
  if (max_side <= 0) max_side = d.options.max_side;
  if (max_side > 0 && longer > max_side) {
    scale = static_cast<double>(max_side) / longer;
    cv::resize(image, d.small, cv::Size(), scale, scale, cv::INTER_AREA);
    source = &d.small;
  }
  Impl::ToGray(*source, d.gray);
  d.Run(d.options.upsample);
  if (d.detections.empty() && d.options.upsample_when_empty && effort != DetectEffort::kPlain) {
    d.Run(d.options.upsample + 1);
  }
  faces.reserve(d.detections.size());
  for (const auto& det : d.detections) {
    Face face;
    // dlib rectangles are inclusive: width = right - left + 1.
    face.box = cv::Rect2f(static_cast<float>(det.rect.left() / scale), static_cast<float>(det.rect.top() / scale),
                          static_cast<float>(det.rect.width() / scale), static_cast<float>(det.rect.height() / scale));
    face.score = static_cast<float>(det.detection_confidence);
    faces.push_back(face);
  }
  largest_first();
  if (faces.empty() && effort == DetectEffort::kAll && d.cnn) {
    d.RunCnn(image, faces);
    largest_first();
  }
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
