// eval's metrics on images and landmarks whose answers are known by construction.

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "faceswap/eval/metrics.h"
#include "faceswap/eval/recogniser.h"

namespace faceswap::eval {
namespace {

cv::Mat Texture(int seed) {
  cv::Mat image(64, 64, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(image, image, cv::Size(5, 5), 1.0);
  return image;
}

TEST(Metrics, PsnrOfAConstantOffsetIsItsClosedForm) {
  const cv::Mat a(32, 32, CV_8UC3, cv::Scalar(100, 100, 100));
  const cv::Mat b(32, 32, CV_8UC3, cv::Scalar(110, 110, 110));
  EXPECT_NEAR(Psnr(a, b), 10 * std::log10(255.0 * 255.0 / 100.0), 1e-9);  // MSE 100: 28.13 dB
  EXPECT_EQ(Psnr(a, a), kPsnrIdentical);
}

TEST(Metrics, SsimIsOneForIdenticalAndFallsWithNoise) {
  const cv::Mat a = Texture(1);
  EXPECT_NEAR(Ssim(a, a), 1.0, 1e-9);
  cv::Mat light = a.clone(), heavy = a.clone();
  cv::Mat noise(a.size(), CV_16SC3);
  cv::RNG(2).fill(noise, cv::RNG::NORMAL, 0, 8);
  cv::add(a, noise, light, cv::noArray(), CV_8UC3);
  cv::RNG(3).fill(noise, cv::RNG::NORMAL, 0, 40);
  cv::add(a, noise, heavy, cv::noArray(), CV_8UC3);
  const double s_light = Ssim(a, light), s_heavy = Ssim(a, heavy);
  EXPECT_LT(s_light, 0.99);
  EXPECT_LT(s_heavy, s_light);
  EXPECT_GT(s_heavy, 0.0);
  EXPECT_NEAR(Ssim(light, a), s_light, 1e-12);  // symmetric
  // Unrelated textures share almost no structure.
  EXPECT_LT(Ssim(a, Texture(9)), 0.2);
}

TEST(Metrics, LandmarkErrorIsTheShiftOverTheOuterEyeDistance) {
  face::Landmarks reference{};
  for (int i = 0; i < 68; ++i) reference[i] = cv::Point2f(static_cast<float>(i % 10) * 7.f, static_cast<float>(i / 10) * 5.f);
  reference[36] = {100, 100};
  reference[45] = {180, 100};  // 80 px apart
  face::Landmarks shifted = reference;
  for (auto& p : shifted) p += cv::Point2f(6.f, 8.f);  // 10 px each
  EXPECT_NEAR(LandmarkError(reference, shifted), 10.0 / 80.0, 1e-6);
  EXPECT_NEAR(LandmarkError(reference, reference), 0.0, 1e-12);
}

TEST(Metrics, MeanChangeCountsOnlyMaskedPixels) {
  cv::Mat a(10, 10, CV_8UC3, cv::Scalar(50, 50, 50)), b = a.clone();
  b(cv::Rect(0, 0, 5, 10)).setTo(cv::Scalar(80, 80, 80));  // left half changes by 30
  cv::Mat mask = cv::Mat::zeros(10, 10, CV_8UC1);
  mask(cv::Rect(0, 0, 5, 10)).setTo(255);
  EXPECT_NEAR(MeanChange(a, b, mask), 30.0, 1e-9);
  mask.setTo(255);
  EXPECT_NEAR(MeanChange(a, b, mask), 15.0, 1e-9);
  EXPECT_EQ(MeanChange(a, b, cv::Mat::zeros(10, 10, CV_8UC1)), 0.0);
}

TEST(Recogniser, InnerFaceIsTheLandmarkBoxInGrey) {
  cv::Mat crop(200, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::rectangle(crop, cv::Rect(50, 60, 100, 80), cv::Scalar(255, 255, 255), cv::FILLED);
  face::Landmarks points{};
  for (int i = 0; i < 68; ++i) points[i] = {50.f + static_cast<float>(i % 2) * 99.f, 60.f + static_cast<float>((i / 2) % 2) * 79.f};
  const cv::Mat inner = InnerFace(crop, points);
  ASSERT_EQ(inner.size(), cv::Size(kInnerFaceSide, kInnerFaceSide));
  EXPECT_EQ(inner.type(), CV_8UC1);
  EXPECT_GT(cv::mean(inner)[0], 200);  // only the white box (less its margin), nothing of the black around it
}

cv::Mat NoisyGrey(int texture, int noise_seed) {
  cv::Mat grey;
  cv::cvtColor(Texture(texture), grey, cv::COLOR_BGR2GRAY);
  cv::resize(grey, grey, cv::Size(kInnerFaceSide, kInnerFaceSide));
  cv::Mat noise(grey.size(), CV_16SC1);
  cv::RNG(noise_seed).fill(noise, cv::RNG::NORMAL, 0, 6);
  cv::add(grey, noise, grey, cv::noArray(), CV_8UC1);
  return grey;
}

TEST(Recogniser, JudgesAProbeWithoutItsOwnGroup) {
  // Identity 0 shows texture 1, identity 1 texture 2, in four groups each; but group 0 of
  // identity 0 also holds an exact copy of the probe, a texture-2 face, labelled 0. Judged
  // with that group in the gallery the probe would be called 0 (distance 0); left out, the
  // rest of the gallery calls it 1.
  std::vector<LabelledFace> real;
  for (int id = 0; id < 2; ++id) {
    for (int g = 0; g < 4; ++g) real.push_back({NoisyGrey(1 + id, 10 * id + g), id, g});
  }
  std::vector<int> verdicts;
  if (!ClassifyLeavingGroupsOut(real, real, 4, verdicts)) GTEST_SKIP() << "built without OpenCV's face module";
  // Every face is recognised by the other groups of its identity.
  for (size_t i = 0; i < real.size(); ++i) EXPECT_EQ(verdicts[i], real[i].identity) << "face " << i;

  const cv::Mat probe = NoisyGrey(2, 99);
  real.push_back({probe, 0, 0});
  ASSERT_TRUE(ClassifyLeavingGroupsOut(real, {{probe, 0, 0}}, 4, verdicts));
  EXPECT_EQ(verdicts.at(0), 1);
}

}  // namespace
}  // namespace faceswap::eval
