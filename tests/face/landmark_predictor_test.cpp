// face::LandmarkPredictor against dlib::shape_predictor itself: the same model file, the
// same faces, and boxes moved and scaled around them (as the tracker's predicted boxes
// are): every landmark must be equal.

#include "landmark_predictor.h"

#include <dlib/image_processing.h>
#include <dlib/opencv/cv_image.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "faceswap/core/file_util.h"
#include "faceswap/face/detector.h"
#include "faceswap/face/model_files.h"
#include "faceswap/video/reader.h"
#include "test_support.h"

namespace faceswap::test {
namespace {

namespace fs = std::filesystem;

TEST(LandmarkPredictor, EqualsDlibsShapePredictorPointForPoint) {
  FACESWAP_REQUIRE_SAMPLE(two, "images/two_people.jpg");
  FACESWAP_REQUIRE_SAMPLE(obama, "images/obama-1080p.jpg");
  const fs::path model = face::ResolveModelFile(face::ModelFile::kLandmarks68);
  dlib::shape_predictor reference;
  dlib::deserialize(model.string()) >> reference;
  face::LandmarkPredictor predictor;
  predictor.Load(model);
  ASSERT_EQ(predictor.num_parts(), 68u);

  face::DetectorOptions hog;
  hog.kind = face::DetectorKind::kHog;
  face::Detector detector(hog);
  std::mt19937 rng(7);
  int fits = 0;
  for (const fs::path& path : {two, obama}) {
    video::Reader reader(path);
    video::Frame frame;
    ASSERT_TRUE(reader.Next(frame)) << path;
    cv::Mat gray;
    cv::cvtColor(frame.bgr, gray, cv::COLOR_BGR2GRAY);
    const dlib::cv_image<unsigned char> view(gray);
    const auto faces = detector.Detect(frame.bgr);
    ASSERT_FALSE(faces.empty()) << path;
    for (const face::Face& f : faces) {
      // Moved by up to a fifth of the box and scaled by 0.8-1.25; some boxes reach past the
      // picture's edge (feature pixels outside it read as 0 in both).
      std::uniform_real_distribution<float> shift(-0.2f, 0.2f), scale(0.8f, 1.25f);
      for (int k = 0; k < 40; ++k) {
        const float w = f.box.width * scale(rng), h = f.box.height * scale(rng);
        const float x = f.box.x + f.box.width * shift(rng), y = f.box.y + f.box.height * shift(rng);
        const dlib::rectangle rect(std::lround(x), std::lround(y), std::lround(x + w) - 1, std::lround(y + h) - 1);
        const dlib::full_object_detection want = reference(view, rect);
        const dlib::full_object_detection got = predictor(view, rect);
        ASSERT_EQ(got.num_parts(), want.num_parts());
        for (unsigned long i = 0; i < want.num_parts(); ++i) {
          ASSERT_EQ(got.part(i), want.part(i)) << path << ", fit " << k << ", point " << i;
        }
        ++fits;
      }
    }
    // Far outside the picture: every feature pixel reads 0, and both still agree.
    const dlib::rectangle outside(-5000, -5000, -4800, -4800);
    const auto want = reference(view, outside), got = predictor(view, outside);
    for (unsigned long i = 0; i < want.num_parts(); ++i) ASSERT_EQ(got.part(i), want.part(i));
  }
  EXPECT_GE(fits, 3 * 40);
}

TEST(LandmarkPredictor, RefusesFilesThatAreNotAShapePredictor) {
  const fs::path dir = fs::temp_directory_path() / ("faceswap_landmarks_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  face::LandmarkPredictor predictor;
  EXPECT_ANY_THROW(predictor.Load(dir / "missing.dat"));
  {
    std::ofstream(dir / "empty.dat", std::ios::binary);
  }
  EXPECT_ANY_THROW(predictor.Load(dir / "empty.dat"));
  {
    // A dlib-serialised int 2 (another version of the format), then nothing.
    std::ofstream out(dir / "v2.dat", std::ios::binary);
    dlib::serialize(2, out);
  }
  try {
    predictor.Load(dir / "v2.dat");
    ADD_FAILURE() << "a version-2 file was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("version 2"), std::string::npos) << e.what();
  }
  {
    // Version 1 and a mean shape, then the file ends (a truncated download).
    std::ofstream out(dir / "truncated.dat", std::ios::binary);
    dlib::serialize(1, out);
    dlib::matrix<float, 0, 1> shape(136);
    shape = 0.5f;
    dlib::serialize(shape, out);
  }
  EXPECT_ANY_THROW(predictor.Load(dir / "truncated.dat"));
  std::error_code ignored;
  core::RemoveTree(dir, ignored);
}

}  // namespace
}  // namespace faceswap::test
