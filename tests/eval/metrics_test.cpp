// eval's metrics on images and landmarks whose answers are known by construction.

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cmath>

#include "faceswap/core/sharpness.h"
#include "faceswap/eval/metrics.h"
#include "faceswap/eval/identity_judge.h"

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

// Fine texture at 256 px, like skin and hair: the detail metric's reference.
cv::Mat DetailedImage() {
  cv::Mat image(256, 256, CV_8UC3);
  cv::RNG(11).fill(image, cv::RNG::UNIFORM, 100, 156);  // grey levels 100-155: skin-like contrast
  cv::GaussianBlur(image, image, cv::Size(3, 3), 0.7);
  return image;
}

cv::Mat AddNoise(const cv::Mat& image, double sigma, int seed) {
  cv::Mat noise(image.size(), CV_16SC3), out;
  cv::RNG(seed).fill(noise, cv::RNG::NORMAL, 0, sigma);
  cv::add(image, noise, out, cv::noArray(), CV_8UC3);
  return out;
}

TEST(Metrics, DetailFidelityIsOneForTheRealDetailAndFallsForBlurAndMoreForNoise) {
  const cv::Mat real = DetailedImage();
  const DetailFidelity same = MeasureDetailFidelity(real, real);
  EXPECT_NEAR(same.score, 1.0, 1e-9);
  // A face drawn at 64 px, enlarged: the finest band is empty (0.5), the next two are kept
  // in part (the pyramid's bands overlap).
  cv::Mat small;
  cv::resize(real, small, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
  const DetailFidelity blurred = MeasureDetailFidelity(real, small);
  EXPECT_NEAR(blurred.bands[0], 0.5, 0.05);
  EXPECT_LT(blurred.bands[1], 0.7);
  EXPECT_LT(blurred.score, 0.7);
  // Noise on top of it raises the variance of the Laplacian, but lowers fidelity.
  cv::Mat enlarged;
  cv::resize(small, enlarged, real.size(), 0, 0, cv::INTER_CUBIC);
  const cv::Mat noisy = AddNoise(enlarged, 8, 5);
  EXPECT_GT(core::LaplacianVariance(noisy), 2 * core::LaplacianVariance(enlarged));
  EXPECT_LT(MeasureDetailFidelity(real, noisy).score, blurred.score - 0.05);
  // Half of the real detail scores between none and all.
  cv::Mat half;
  cv::addWeighted(real, 0.5, enlarged, 0.5, 0, half);
  const double half_score = MeasureDetailFidelity(real, half).score;
  EXPECT_GT(half_score, blurred.score + 0.1);
  EXPECT_LT(half_score, 0.99);
}

TEST(Metrics, DetailFidelityMeasuresOnlyInsideTheMask) {
  const cv::Mat real = DetailedImage();
  cv::Mat changed = real.clone();
  changed(cv::Rect(128, 0, 128, 256)).setTo(cv::Scalar(90, 90, 90));  // right half flat
  cv::Mat left = cv::Mat::zeros(real.size(), CV_8UC1);
  left(cv::Rect(0, 0, 112, 256)).setTo(255);  // the pyramid's kernel reaches a few pixels over
  EXPECT_GT(MeasureDetailFidelity(real, changed, left).score, 0.99);
  EXPECT_LT(MeasureDetailFidelity(real, changed).score, 0.9);
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

face::Descriptor At(float x, float y = 0.f) {
  face::Descriptor d{};
  d[0] = x;
  d[1] = y;
  return d;
}

TEST(IdentityJudge, RetrievesWithoutTheProbesOwnGroup) {
  // Identity 0 sits near x = 0, identity 1 near x = 1, two groups each; group 0 of
  // identity 0 also holds an exact copy of the probe, which lies near identity 1. With that
  // group in the gallery the probe would be retrieved as 0 (distance 0); left out, as 1.
  std::vector<JudgedFace> real = {{At(0.0f), 0, 0}, {At(0.1f), 0, 1}, {At(1.0f), 1, 0}, {At(1.1f), 1, 1}};
  const face::Descriptor probe = At(0.9f);
  real.push_back({probe, 0, 0});
  const Retrieval r = Retrieve(probe, 0, 0, real, 2);
  EXPECT_EQ(r.nearest_identity, 1);
  ASSERT_EQ(r.mean_distance.size(), 2u);
  EXPECT_NEAR(r.mean_distance[0], 0.8, 1e-6);          // only group 1's face at 0.1
  EXPECT_NEAR(r.mean_distance[1], (0.1 + 0.2) / 2, 1e-6);
  // The same probe as a face of identity 1's group 0 keeps identity 0's copy: distance 0.
  EXPECT_EQ(Retrieve(probe, 1, 0, real, 2).nearest_identity, 0);
}

TEST(HeadPose, RecoversTheAnglesOfAProjectedHead) {
  const cv::Size size(1280, 720);
  for (const HeadPose& truth : {HeadPose{0, 0, 0}, HeadPose{10, -20, 5}, HeadPose{-15, 30, -10}}) {
    const face::Landmarks points = ProjectHeadModel(truth, size, 1500.0);
    const HeadPose found = EstimateHeadPose(points, size);
    EXPECT_NEAR(found.pitch, truth.pitch, 0.5);
    EXPECT_NEAR(found.yaw, truth.yaw, 0.5);
    EXPECT_NEAR(found.roll, truth.roll, 0.5);
  }
}

}  // namespace
}  // namespace faceswap::eval
