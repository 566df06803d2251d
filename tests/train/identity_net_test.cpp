// The LibTorch re-declaration of dlib's face-recognition ResNet against dlib itself, on
// dlib's own labelled chips (examples/johns: 55 aligned 150x150 chips of 5 people).

#include "faceswap/train/identity_net.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "faceswap/core/error.h"
#include "faceswap/face/align.h"
#include "faceswap/face/detector.h"
#include "faceswap/face/identity.h"
#include "faceswap/model/tensor_image.h"
#include "network_files.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::test {
namespace {

constexpr int kChip = face::kIdentityChipSize;

std::vector<cv::Mat> LoadJohns(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() == ".jpg") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<cv::Mat> chips;
  for (const auto& f : files) chips.push_back(cv::imread(f.string()));
  return chips;
}

face::Descriptor AsDescriptor(const torch::Tensor& batch, int64_t index) {
  const torch::Tensor row = batch[index].detach().contiguous();
  face::Descriptor d{};
  std::copy(row.data_ptr<float>(), row.data_ptr<float>() + face::kDescriptorSize, d.begin());
  return d;
}

std::string Short(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// A smooth random BGR image (blurred with sigma 3 px): sub-pixel shifts change it little.
cv::Mat SmoothImage(int side) {
  cv::Mat image(side, side, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(image, image, cv::Size(0, 0), 3);
  return image;
}

TEST(IdentityNet, DescribesJohnsLikeDlib) {
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  FACESWAP_REQUIRE_JOHNS(johns);
  const std::vector<cv::Mat> chips = LoadJohns(johns);
  ASSERT_EQ(chips.size(), 55u);

  face::IdentityEncoder encoder;
  auto start = std::chrono::steady_clock::now();
  const std::vector<face::Descriptor> theirs = encoder.EncodeChips(chips);
  const double dlib_seconds = Seconds(start);

  train::IdentityNet net = train::LoadIdentityNet();
  torch::NoGradGuard no_grad;
  start = std::chrono::steady_clock::now();
  const torch::Tensor ours = net->Describe(model::ImagesToTensor(chips, kChip));
  const double torch_seconds = Seconds(start);
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{55, face::kDescriptorSize}));

  double max_difference = 0, max_component = 0;
  for (size_t i = 0; i < chips.size(); ++i) {
    const face::Descriptor d = AsDescriptor(ours, static_cast<int64_t>(i));
    for (int k = 0; k < face::kDescriptorSize; ++k) {
      max_difference = std::max(max_difference, static_cast<double>(std::abs(d[k] - theirs[i][k])));
      max_component = std::max(max_component, static_cast<double>(std::abs(theirs[i][k])));
    }
  }
  EXPECT_LE(max_difference, 1e-4) << "max |LibTorch - dlib| over 55 x 128 components: " << max_difference
                                  << " (largest component " << max_component << ")";
  RecordProperty("max_abs_difference", Short(max_difference));
  RecordProperty("dlib_ms_per_chip", Short(1000 * dlib_seconds / 55));
  RecordProperty("torch_ms_per_chip", Short(1000 * torch_seconds / 55));
}

TEST(IdentityNet, GradientReachesTheInputOnly) {
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  train::IdentityNet net = train::LoadIdentityNet();
  for (const torch::Tensor& p : net->parameters()) EXPECT_FALSE(p.requires_grad());

  torch::Tensor faces = model::ImagesToTensor({SmoothImage(256)}, 256).requires_grad_(true);
  net->Describe(train::ChipsFromFaces(faces, 2.0)).norm().backward();
  ASSERT_TRUE(faces.grad().defined());
  EXPECT_TRUE(torch::isfinite(faces.grad()).all().item<bool>());
  EXPECT_GT(faces.grad().abs().sum().item<double>(), 0.0);
  for (const torch::Tensor& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(IdentityNet, RefusesOtherNetworksAndChips) {
  face::IdentityNetwork network;
  network.layers.resize(1);
  network.layers[0].kind = face::IdentityLayerKind::kAffine;
  EXPECT_THROW(train::IdentityNet{network}, InputError);
  EXPECT_THROW(train::ChipsFromFaces(torch::zeros({1, 3, 64, 32}), 1.5), UsageError);
  EXPECT_THROW(train::ChipsFromFaces(torch::zeros({1, 3, 64, 64}), 0.1), UsageError);

  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  train::IdentityNet net = train::LoadIdentityNet();
  EXPECT_THROW(net->Describe(torch::zeros({1, 3, 128, 128})), UsageError);
}

// dlib's chip of a crop, sampled pixel by pixel the way extract_image_chip places it
// (dlib/image_transforms/interpolation.h): chip_details centres a rectangle of
// 150 * scale - 1 source pixels (centered_drect) on template chip point (75, 75) and
// get_mapping_to_chip spreads the 150 pixel centres over it. Template unit u lies at
// crop pixel (u + (coverage - 1) / 2) * side / coverage (face::TemplatePointInCrop).
cv::Mat ReferenceChip(const cv::Mat& crop_rgb_float, double coverage) {
  const double side = crop_rgb_float.cols;
  const double scale = side * 1.5 / (kChip * coverage);  // crop pixels per template chip pixel
  const auto crop_pixel = [&](int j) {
    const double t = kChip / 2.0 + (j - (kChip - 1) / 2.0) * (kChip - 1.0 / scale) / (kChip - 1);
    const double u = t * 1.5 / kChip - 0.25;
    return (u + (coverage - 1) / 2) * side / coverage;
  };
  cv::Mat chip(kChip, kChip, CV_32FC3);
  const auto at = [&](int r, int c) {
    return crop_rgb_float.at<cv::Vec3f>(std::clamp(r, 0, crop_rgb_float.rows - 1),
                                        std::clamp(c, 0, crop_rgb_float.cols - 1));
  };
  for (int i = 0; i < kChip; ++i) {
    for (int j = 0; j < kChip; ++j) {
      const double y = std::clamp(crop_pixel(i), 0.0, side - 1), x = std::clamp(crop_pixel(j), 0.0, side - 1);
      const int r = static_cast<int>(std::floor(y)), c = static_cast<int>(std::floor(x));
      const float fy = static_cast<float>(y - r), fx = static_cast<float>(x - c);
      chip.at<cv::Vec3f>(i, j) = (1 - fy) * ((1 - fx) * at(r, c) + fx * at(r, c + 1)) +
                                 fy * ((1 - fx) * at(r + 1, c) + fx * at(r + 1, c + 1));
    }
  }
  return chip;
}

torch::Tensor AsChw(const cv::Mat& rgb_float) {
  return torch::from_blob(rgb_float.data, {rgb_float.rows, rgb_float.cols, 3}, torch::kFloat32)
      .permute({2, 0, 1})
      .clone();
}

// Coverage 1.5 is dlib's chip already: a resize up to dlib's sub-pixel placement. Larger
// coverages zoom into the middle; smaller ones reach beyond the crop.
TEST(IdentityNet, ChipsFromFacesPlaceTheChipAsDlibDoes) {
  const cv::Mat crop = SmoothImage(256);
  const torch::Tensor faces = model::ImagesToTensor({crop}, 256);
  cv::Mat crop_rgb;
  crop.convertTo(crop_rgb, CV_32FC3, 1.0 / 255);
  cv::cvtColor(crop_rgb, crop_rgb, cv::COLOR_BGR2RGB);

  // (Not below 1.28, where a 256 px crop would be averaged down first.)
  for (const double coverage : {1.5, 3.0, 1.3}) {
    const torch::Tensor chip = train::ChipsFromFaces(faces, coverage)[0];
    EXPECT_LT((chip - AsChw(ReferenceChip(crop_rgb, coverage))).abs().max().item<double>(), 1e-4)
        << "coverage " << coverage;
  }
  cv::Mat resized;
  cv::resize(crop_rgb, resized, cv::Size(kChip, kChip), 0, 0, cv::INTER_LINEAR);
  const torch::Tensor difference = (train::ChipsFromFaces(faces, 1.5)[0] - AsChw(resized)).abs();
  // Half a crop pixel of shift on an image blurred with sigma 3 px (measured 0.004, 0.026).
  EXPECT_LT(difference.mean().item<double>(), 0.01);
  EXPECT_LT(difference.max().item<double>(), 0.05);
}

// A chip enlarged 4x and cut back by ChipsFromFaces (which averages the large crop down
// before sampling) describes the same face as the chip.
TEST(IdentityNet, LargeCropsAreAveragedDown) {
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  FACESWAP_REQUIRE_JOHNS(johns);
  const std::vector<cv::Mat> chips = LoadJohns(johns);
  ASSERT_FALSE(chips.empty());
  cv::Mat large;
  cv::resize(chips.front(), large, cv::Size(4 * kChip, 4 * kChip), 0, 0, cv::INTER_CUBIC);
  train::IdentityNet net = train::LoadIdentityNet();
  torch::NoGradGuard no_grad;
  const torch::Tensor original = net->Describe(model::ImagesToTensor({chips.front()}, kChip));
  const torch::Tensor recut = net->Describe(train::ChipsFromFaces(model::ImagesToTensor({large}, 4 * kChip), 1.5));
  const double distance = face::Distance(AsDescriptor(original, 0), AsDescriptor(recut, 0));
  EXPECT_LT(distance, 0.05);
}

// On a real photo: face::Align's crop at another coverage, cut down by ChipsFromFaces,
// describes the face as dlib's own chip of the frame does. They differ by the landmarks
// each aligner fits (face::Align leaves out brows and lower lip) and sub-pixel conventions.
TEST(IdentityNet, ChipsFromAlignedCropsMatchDlibChips) {
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  FACESWAP_REQUIRE_SAMPLE(path, "images/lin-manuel-miranda.png");
  const cv::Mat image = cv::imread(path.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty()) << path;
  face::DetectorOptions detector_options;
  detector_options.kind = face::DetectorKind::kHog;
  const std::vector<face::Face> faces = face::Detector(detector_options).Detect(image);
  ASSERT_FALSE(faces.empty()) << "no face found in " << path;

  face::IdentityEncoder encoder;
  const face::Descriptor theirs = encoder.Encode(image, faces.front().points);
  train::IdentityNet net = train::LoadIdentityNet();
  torch::NoGradGuard no_grad;
  for (const double coverage : {1.5, 2.0, 2.5}) {
    face::AlignOptions options;
    options.size = 256;
    options.coverage = coverage;
    const face::AlignedFace aligned = face::Align(image, faces.front().points, options);
    const torch::Tensor chips = train::ChipsFromFaces(model::ImagesToTensor({aligned.crop}, options.size), coverage);
    const double distance = face::Distance(AsDescriptor(net->Describe(chips), 0), theirs);
    EXPECT_LT(distance, 0.1) << "coverage " << coverage;
    RecordProperty("distance_at_coverage_" + Short(coverage), Short(distance));
  }
}

}  // namespace
}  // namespace faceswap::test
