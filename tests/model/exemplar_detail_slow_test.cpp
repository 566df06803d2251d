// model::ExemplarDetail on real faces: person_a's crops from the extract fixture, the early
// frames as exemplars, later frames (never among them, nor their neighbours) measured.

#include "exemplar_detail.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <vector>

#include "e2e_fixtures.h"
#include "faceswap/core/sharpness.h"
#include "faceswap/eval/metrics.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/model/tensor_image.h"
#include "test_support.h"

namespace faceswap::model {
namespace {

namespace F = torch::nn::functional;

constexpr int kSmall = 64, kSide = 256;

struct Crops {
  std::vector<cv::Mat> exemplars, measured;
};

// Frames before 400 lend detail; frames 450-555 are measured (person_a's clip turns into a
// split screen of another woman after 560).
Crops PersonACrops() {
  const std::filesystem::path folder = test::ExtractedFaces("a");
  const face::AlignmentsFile alignments = face::LoadAlignments(folder / face::kAlignmentsFileName);
  Crops crops;
  for (const face::SourceRecord& source : alignments.sources) {
    for (const face::FaceRecord& record : source.faces) {
      cv::Mat crop = cv::imread((folder / record.file).string(), cv::IMREAD_COLOR);
      if (crop.empty()) continue;
      if (crop.cols != kSide) cv::resize(crop, crop, {kSide, kSide}, 0, 0, cv::INTER_AREA);
      if (record.frame < 400) crops.exemplars.push_back(crop);
      if (record.frame >= 450 && record.frame <= 555) crops.measured.push_back(crop);
    }
  }
  return crops;
}

torch::Tensor Shrunk(const std::vector<cv::Mat>& crops) {
  return F::adaptive_avg_pool2d(ImagesToTensor(crops, kSide), F::AdaptiveAvgPool2dFuncOptions({kSmall, kSmall}));
}

torch::Tensor Bicubic(const torch::Tensor& small) {
  return F::interpolate(small, F::InterpolateFuncOptions()
                                   .size(std::vector<int64_t>{kSide, kSide})
                                   .mode(torch::kBicubic)
                                   .align_corners(false));
}

cv::Mat InnerFace() {  // eyes to chin of an aligned crop
  cv::Mat mask = cv::Mat::zeros(kSide, kSide, CV_8UC1);
  cv::ellipse(mask, {kSide / 2, kSide * 55 / 100}, {kSide * 30 / 100, kSide * 36 / 100}, 0, 0, 360, 255, -1);
  return mask;
}

struct Figures {
  double fidelity = 0, sharpness = 0;  // means over the faces; sharpness drawn / real
};

std::vector<cv::Mat> Images(const torch::Tensor& faces) {
  std::vector<cv::Mat> images;
  for (int i = 0; i < faces.size(0); ++i) images.push_back(TensorToImage(faces, i));
  return images;
}

Figures Measure(const std::vector<cv::Mat>& drawn, const std::vector<cv::Mat>& real) {
  const cv::Mat mask = InnerFace();
  Figures f;
  for (size_t i = 0; i < real.size(); ++i) {
    const cv::Mat& mine = drawn.at(i);
    f.fidelity += eval::MeasureDetailFidelity(real[i], mine, mask).score / static_cast<double>(real.size());
    f.sharpness += core::LaplacianVariance(mine, mask) / core::LaplacianVariance(real[i], mask) /
                   static_cast<double>(real.size());
  }
  return f;
}

TEST(ExemplarDetail, WithoutExemplarsItIsTheBicubicEnlargement) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const Crops crops = PersonACrops();
  ASSERT_GE(crops.measured.size(), 4u);
  const std::vector<cv::Mat> four(crops.measured.begin(), crops.measured.begin() + 4);
  const torch::Tensor small = Shrunk(four);
  const ExemplarDetail none({}, kSmall, kSide);
  EXPECT_EQ(none.exemplars(), 0);
  const std::vector<cv::Mat> drawn = none.Draw(small), bicubic = Images(Bicubic(small));
  ASSERT_EQ(drawn.size(), 4u);
  for (size_t i = 0; i < drawn.size(); ++i) {
    ASSERT_EQ(drawn[i].size(), cv::Size(kSide, kSide));
    ASSERT_EQ(drawn[i].type(), CV_8UC3);
    // OpenCV's bicubic kernel and LibTorch's are the same (a = -0.75, edges replicated):
    // at most a grey level of rounding apart.
    EXPECT_LE(cv::norm(drawn[i], bicubic[i], cv::NORM_INF), 1.0) << i;
  }
}

TEST(ExemplarDetail, GivesBackDetailOfFramesItNeverSaw) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const Crops crops = PersonACrops();
  ASSERT_GE(crops.exemplars.size(), 100u);
  ASSERT_GE(crops.measured.size(), 20u);
  const ExemplarDetail detail(crops.exemplars, kSmall, kSide);
  EXPECT_EQ(detail.exemplars(), static_cast<int>(crops.exemplars.size()));
  EXPECT_EQ(detail.side(), kSide);

  const torch::Tensor small = Shrunk(crops.measured);
  const std::vector<cv::Mat> drawn = detail.Draw(small);
  ASSERT_EQ(drawn.size(), static_cast<size_t>(small.size(0)));
  EXPECT_EQ(drawn.front().size(), cv::Size(kSide, kSide));
  const Figures enlarged = Measure(Images(Bicubic(small)), crops.measured);
  const Figures exemplar = Measure(drawn, crops.measured);
  RecordProperty("fidelity_bicubic", std::to_string(enlarged.fidelity));
  RecordProperty("fidelity_exemplar", std::to_string(exemplar.fidelity));
  std::printf("detail fidelity %.3f -> %.3f, sharpness ratio %.3f -> %.3f\n", enlarged.fidelity, exemplar.fidelity,
              enlarged.sharpness, exemplar.sharpness);
  // Real detail: the pyramid's bands nearer the real ones (noise or misplaced detail would
  // lower this below the enlargement's), and a sharper face.
  EXPECT_GT(exemplar.fidelity, enlarged.fidelity + 0.01);
  EXPECT_GT(exemplar.sharpness, 2.0 * enlarged.sharpness);

  // A face among the exemplars finds its own detail: nearer the real crop still.
  const std::vector<cv::Mat> own(crops.exemplars.begin() + 40, crops.exemplars.begin() + 44);
  const Figures itself = Measure(detail.Draw(Shrunk(own)), own);
  std::printf("an exemplar's own face: detail fidelity %.3f\n", itself.fidelity);
  EXPECT_GT(itself.fidelity, exemplar.fidelity + 0.03);
}

TEST(ExemplarDetail, RefusesSidesItCannotEnlarge) {
  EXPECT_THROW(ExemplarDetail({}, 64, 100), std::exception);
  EXPECT_THROW(ExemplarDetail({}, 64, 64), std::exception);
}

}  // namespace
}  // namespace faceswap::model
