// Detection and landmarks on the shared still images (real dlib model, real photos).

#include "faceswap/face/detector.h"

#include <dlib/opencv/cv_image.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceswap/core/error.h"
#include "faceswap/video/reader.h"
#include "hog_detector.h"
#include "network_files.h"
#include "test_support.h"

namespace faceswap::test {
namespace {

cv::Mat ReadImage(const std::filesystem::path& path) {
  video::Reader reader(path);
  video::Frame frame;
  EXPECT_TRUE(reader.Next(frame)) << path;
  return frame.bgr;
}

face::Detector& SharedDetector() {
  static face::Detector detector{face::DetectorOptions{}};
  return detector;
}

void ExpectLandmarksNearBox(const face::Face& f) {
  // Landmarks belong to the face in the box: their centre lies inside the box and their
  // extent is on the box's scale (not collapsed, not exploded).
  const cv::Rect2f b = face::LandmarkBounds(f.points);
  const cv::Point2f c(b.x + b.width / 2, b.y + b.height / 2);
  EXPECT_TRUE(f.box.contains(c)) << "landmark centre outside the box";
  EXPECT_GT(b.width, 0.5f * f.box.width);
  EXPECT_LT(b.width, 2.0f * f.box.width);
  EXPECT_GT(face::InterOcularDistance(f.points), 0.2 * f.box.width);
}

TEST(Detector, TwoPeopleGivesTwoFaces) {
  FACESWAP_REQUIRE_SAMPLE(path, "images/two_people.jpg");
  const auto faces = SharedDetector().Detect(ReadImage(path));
  ASSERT_EQ(faces.size(), 2u);
  for (const auto& f : faces) ExpectLandmarksNearBox(f);
  // Two different people: boxes do not overlap.
  EXPECT_EQ((faces[0].box & faces[1].box).area(), 0.f);
}

TEST(Detector, ObamaOneFace) {
  FACESWAP_REQUIRE_SAMPLE(path, "images/obama-1080p.jpg");
  const auto faces = SharedDetector().Detect(ReadImage(path));
  ASSERT_EQ(faces.size(), 1u);
  ExpectLandmarksNearBox(faces[0]);
}

TEST(Detector, LinManuelMirandaOneFace) {
  FACESWAP_REQUIRE_SAMPLE(path, "images/lin-manuel-miranda.png");
  const auto faces = SharedDetector().Detect(ReadImage(path));
  ASSERT_EQ(faces.size(), 1u);
  ExpectLandmarksNearBox(faces[0]);
}

// The detector the build unpacked is dlib's own: every window's score, on real photos, at
// the plain scale and upsampled (where weaker windows count too: a threshold below zero).
TEST(Detector, BuiltInHogDetectorIsDlibs) {
  dlib::frontal_face_detector built_in = face::BuiltInHogDetector();
  dlib::frontal_face_detector dlibs = dlib::get_frontal_face_detector();
  ASSERT_EQ(built_in.num_detectors(), dlibs.num_detectors());
  int compared = 0;
  for (const char* name : {"images/two_people.jpg", "images/obama-1080p.jpg", "images/lin-manuel-miranda.png"}) {
    FACESWAP_REQUIRE_SAMPLE(path, name);
    cv::Mat gray;
    cv::cvtColor(ReadImage(path), gray, cv::COLOR_BGR2GRAY);
    for (const double scale : {0.5, 1.0}) {
      cv::Mat scaled;
      cv::resize(gray, scaled, {}, scale, scale, cv::INTER_AREA);
      const dlib::cv_image<unsigned char> view(scaled);
      std::vector<dlib::rect_detection> a, b;
      built_in(view, a, -0.5);
      dlibs(view, b, -0.5);
      ASSERT_EQ(a.size(), b.size()) << name << " at " << scale;
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].rect, b[i].rect) << name;
        EXPECT_EQ(a[i].detection_confidence, b[i].detection_confidence) << name;
        EXPECT_EQ(a[i].weight_index, b[i].weight_index) << name;
      }
      compared += static_cast<int>(a.size());
    }
  }
  EXPECT_GE(compared, 4);  // the photos' faces at least, each found at both scales
}

TEST(Detector, PartialFaceDoesNotCrash) {
  FACESWAP_REQUIRE_SAMPLE(path, "images/obama_partial_face.jpg");
  const cv::Mat image = ReadImage(path);
  const auto faces = SharedDetector().Detect(image);
  EXPECT_LE(faces.size(), 1u);
  // Landmarks of a face cut by the border may leave the image, but only by a margin on
  // the face's own scale (the predictor extrapolates the missing part).
  for (const auto& f : faces) {
    const float margin = 0.5f * f.box.width;
    for (const auto& p : f.points) {
      EXPECT_GE(p.x, -margin);
      EXPECT_GE(p.y, -margin);
      EXPECT_LE(p.x, image.cols + margin);
      EXPECT_LE(p.y, image.rows + margin);
    }
  }
}

TEST(Detector, RgbaPngWorks) {
  FACESWAP_REQUIRE_SAMPLE(path, "images/32bit.png");
  // Through the Reader (BGR) and straight from OpenCV with the alpha channel kept.
  const auto via_reader = SharedDetector().Detect(ReadImage(path));
  ASSERT_EQ(via_reader.size(), 1u);
  const cv::Mat bgra = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(bgra.channels(), 4);
  const auto via_bgra = SharedDetector().Detect(bgra);
  ASSERT_EQ(via_bgra.size(), 1u);
  EXPECT_LT(cv::norm(via_bgra[0].points[30] - via_reader[0].points[30]), 3.0);
}

TEST(Detector, DownscaledDetectionMatchesFullResolution) {
  FACESWAP_REQUIRE_SAMPLE(path, "images/obama-1080p.jpg");
  const cv::Mat image = ReadImage(path);
  face::DetectorOptions full;
  full.max_side = 0;
  face::Detector full_res(full);
  const auto a = full_res.Detect(image);
  const auto b = SharedDetector().Detect(image);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  // Boxes scaled back agree to a few percent of the face size; landmarks (fitted at full
  // resolution in both) agree to a few pixels.
  EXPECT_LT(std::abs(a[0].box.width - b[0].box.width), 0.1f * a[0].box.width);
  EXPECT_LT(face::InterOcularDistance(a[0].points) - face::InterOcularDistance(b[0].points),
            0.05 * face::InterOcularDistance(a[0].points));
}

TEST(Detector, EmptyImageGivesNoFaces) {
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kLandmarks68);
  EXPECT_TRUE(SharedDetector().Detect(cv::Mat()).empty());
  EXPECT_TRUE(SharedDetector().Detect(cv::Mat(480, 640, CV_8UC3, cv::Scalar(40, 80, 120))).empty());
}

TEST(Detector, MissingModelNamesThePackage) {
  face::DetectorOptions options;
  options.landmark_model = "/nonexistent/shape_predictor.dat";
  try {
    face::Detector detector(options);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("libdlib-data"), std::string::npos) << e.what();
  }
}

TEST(Detector, OptionsCheckRejectsNonsense) {
  face::DetectorOptions options;
  options.upsample = -1;
  EXPECT_THROW(options.Check(), UsageError);
  options = {};
  options.max_side = 10;
  EXPECT_THROW(options.Check(), UsageError);
}

}  // namespace
}  // namespace faceswap::test
