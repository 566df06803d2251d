#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "faceswap/train/augment.h"
#include "faceswap/train/loss.h"
#include "test_support.h"

namespace faceswap::train {
namespace {

// A synthetic face-like layout: 68 points on an ellipse-ish grid inside a 128 px crop.
FaceSample Sample() {
  FaceSample face;
  face.crop = cv::Mat(128, 128, CV_8UC3);
  cv::randu(face.crop, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::GaussianBlur(face.crop, face.crop, cv::Size(9, 9), 3);
  // Jaw (0-16): the lower half of an ellipse; brows (17-26): a line above the eyes.
  for (int i = 0; i <= 16; ++i) {
    const double a = CV_PI * i / 16.0;
    face.points[i] = cv::Point2f(static_cast<float>(64 + 44 * std::cos(a)), static_cast<float>(60 + 50 * std::sin(a)));
  }
  for (int i = 17; i <= 26; ++i) face.points[i] = cv::Point2f(30.f + (i - 17) * 7.f, 40.f);
  for (int i = 27; i < 68; ++i) face.points[i] = cv::Point2f(64.f, 70.f);
  // Eyes and mouth as small clusters so that their hulls have an area.
  for (int i = 36; i < 42; ++i) face.points[i] = cv::Point2f(44.f + (i - 36) * 3.f, 50.f + (i % 2) * 6.f);
  for (int i = 42; i < 48; ++i) face.points[i] = cv::Point2f(70.f + (i - 42) * 3.f, 50.f + (i % 2) * 6.f);
  for (int i = 48; i < 60; ++i) face.points[i] = cv::Point2f(50.f + (i - 48) * 2.5f, 90.f + (i % 2) * 8.f);
  return face;
}

TEST(Augment, CleanPairIsTheResizedCropWithWeightsOnFeatures) {
  const FaceSample face = Sample();
  cv::RNG rng(1);
  const TrainingPair pair = MakePair(face, 64, AugmentOptions{}, rng, false);
  ASSERT_EQ(pair.input.size(), cv::Size(64, 64));
  EXPECT_EQ(cv::norm(pair.input, pair.target, cv::NORM_INF), 0.0);
  double min = 0, max = 0;
  cv::minMaxLoc(pair.weight, &min, &max);
  EXPECT_DOUBLE_EQ(min, 1.0);
  EXPECT_DOUBLE_EQ(max, AugmentOptions{}.feature_weight);
  EXPECT_GT(cv::countNonZero(pair.mask), 64 * 64 / 4);  // the face hull covers much of the crop
}

TEST(Augment, WarpChangesTheInputButNotTheTargetGeometry) {
  const FaceSample face = Sample();
  AugmentOptions no_jitter;
  no_jitter.rotation_degrees = 0;
  no_jitter.zoom = 0;
  no_jitter.shift = 0;
  no_jitter.flip_probability = 0;
  no_jitter.brightness = no_jitter.contrast = no_jitter.color = 0;
  cv::RNG rng(3);
  const TrainingPair pair = MakePair(face, 64, no_jitter, rng, true);
  cv::RNG unused;
  const TrainingPair clean = MakePair(face, 64, no_jitter, unused, false);
  // Target = clean crop (up to the Lab round trip of the zero jitter); input is bent.
  const double target_error = cv::norm(pair.target, clean.target, cv::NORM_L1) / (64.0 * 64 * 3);
  const double input_error = cv::norm(pair.input, clean.target, cv::NORM_L1) / (64.0 * 64 * 3);
  EXPECT_LT(target_error, 1.0);                 // only the Lab round trip's rounding
  EXPECT_GT(input_error, 3.0 * target_error);   // the warp moved pixels well beyond that
  EXPECT_GT(input_error, 1.0);
}

TEST(Augment, SmallerInputIsTheTargetShrunkThenWarped) {
  const FaceSample face = Sample();
  cv::RNG rng(5);
  const TrainingPair pair = MakePair(face, 128, AugmentOptions{}, rng, true, 32);
  EXPECT_EQ(pair.input.size(), cv::Size(32, 32));
  EXPECT_EQ(pair.target.size(), cv::Size(128, 128));
  EXPECT_EQ(pair.weight.size(), cv::Size(128, 128));
  EXPECT_EQ(pair.mask.size(), cv::Size(128, 128));
  // The clean pair: the input is the target shrunk by area averaging.
  cv::RNG unused;
  const TrainingPair clean = MakePair(face, 128, AugmentOptions{}, unused, false, 32);
  cv::Mat shrunk;
  cv::resize(clean.target, shrunk, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(clean.input, shrunk, cv::NORM_INF), 0.0);
}

TEST(Augment, SameSeedSamePairs) {
  const FaceSample face = Sample();
  cv::RNG a(42), b(42);
  const TrainingPair pa = MakePair(face, 64, AugmentOptions{}, a);
  const TrainingPair pb = MakePair(face, 64, AugmentOptions{}, b);
  EXPECT_EQ(cv::norm(pa.input, pb.input, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(pa.target, pb.target, cv::NORM_INF), 0.0);
}

TEST(Augment, OccludersGoOnTheOcclusionNetworksFaceOnlyAndLeaveItsTarget) {
  const FaceSample face = Sample();
  AugmentOptions options;
  // Without occluders: the occlusion network sees the input, and its target is the hull
  // warped like the input; the random draws are those of a run without them.
  {
    cv::RNG rng(3), same(3);
    const TrainingPair pair = MakePair(face, 64, options, rng, true, 0, face.crop);
    const TrainingPair before = MakePair(face, 64, options, same, true);
    EXPECT_EQ(cv::norm(pair.occluded_input, pair.input, cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(pair.input, before.input, cv::NORM_INF), 0.0);
    EXPECT_GT(cv::countNonZero(pair.input_mask > 0.5f), 64 * 64 / 4);
  }
  options.occluder_share = 1.0;
  int occluded = 0;
  for (int seed = 1; seed <= 20; ++seed) {
    cv::RNG rng(static_cast<uint64_t>(seed));
    const TrainingPair pair = MakePair(face, 64, options, rng, true, 0, face.crop);
    cv::RNG clean_rng(static_cast<uint64_t>(seed));
    AugmentOptions none = options;
    none.occluder_share = 0;
    const TrainingPair clean = MakePair(face, 64, none, clean_rng, true);
    // The autoencoder's input and target are the clean ones.
    EXPECT_EQ(cv::norm(pair.input, clean.input, cv::NORM_INF), 0.0);
    EXPECT_EQ(cv::norm(pair.target, clean.target, cv::NORM_INF), 0.0);
    // Where the occluder changed the face, the target says "not visible".
    cv::Mat diff;
    cv::absdiff(pair.occluded_input, pair.input, diff);
    cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
    const cv::Mat changed_on_face = (diff > 20) & (clean.input_mask > 0.99f);
    if (cv::countNonZero(changed_on_face) > 0) ++occluded;
    const double visible_there = cv::mean(pair.input_mask, changed_on_face)[0];
    if (cv::countNonZero(changed_on_face) > 0) EXPECT_LT(visible_there, 0.5) << "seed " << seed;
    EXPECT_LE(cv::sum(pair.input_mask)[0], cv::sum(clean.input_mask)[0] + 1e-3);
  }
  EXPECT_GE(occluded, 15);  // most occluders visibly cover the face (thin strands may not)
}

TEST(Loss, CoarseFaceLossComparesWithTheTargetShrunkToItsSide) {
  const torch::Tensor target = torch::rand({2, 3, 64, 64});
  const torch::Tensor weight = torch::ones({2, 1, 64, 64});
  const torch::Tensor shrunk = torch::nn::functional::avg_pool2d(target, torch::nn::functional::AvgPool2dFuncOptions(4));
  EXPECT_LT(CoarseFaceLoss(shrunk, target, weight).item<double>(), 1e-6);
  EXPECT_GT(CoarseFaceLoss(torch::rand({2, 3, 16, 16}), target, weight).item<double>(), 0.1);
}

TEST(Loss, DetailLossChargesMissingFineDetailMoreThanPlainL1) {
  const torch::Tensor target = torch::rand({2, 3, 64, 64});
  const torch::Tensor weight = torch::ones({2, 1, 64, 64});
  EXPECT_LT(DetailLoss(target, target, weight).item<double>(), 1e-9);
  // A constant offset has no detail: only the plain L1 sees it.
  EXPECT_NEAR(DetailLoss(target + 0.1, target, weight).item<double>(), 0.1, 1e-5);
  // The target blurred (its 2x2 means, enlarged) lost its finest detail: the bands add to
  // the L1 of the same error.
  namespace F = torch::nn::functional;
  const torch::Tensor blurred = F::interpolate(F::avg_pool2d(target, F::AvgPool2dFuncOptions(2)),
                                               F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
  const double l1 = (blurred - target).abs().mean().item<double>();
  EXPECT_GT(DetailLoss(blurred, target, weight).item<double>(), 1.8 * l1);
}

TEST(Loss, SsimIsOneForIdenticalImagesAndLowerForNoise) {
  const torch::Tensor x = torch::rand({2, 3, 32, 32});
  EXPECT_NEAR(SsimMap(x, x).mean().item<double>(), 1.0, 1e-4);
  const torch::Tensor noisy = (x + 0.2 * torch::randn_like(x)).clamp(0, 1);
  EXPECT_LT(SsimMap(x, noisy).mean().item<double>(), 0.9);
  const torch::Tensor w = torch::ones({2, 1, 32, 32});
  EXPECT_NEAR(FaceLoss(x, x, w).item<double>(), 0.0, 1e-4);
  EXPECT_GT(FaceLoss(noisy, x, w).item<double>(), 0.05);
  // Doubling the weights doubles the loss.
  EXPECT_NEAR(FaceLoss(noisy, x, 2 * w).item<double>(), 2 * FaceLoss(noisy, x, w).item<double>(), 1e-5);
}

// SSIM as Wang et al. define it, in double precision with the whole 11 x 11 Gaussian
// window: the separable blur of SsimMap must give the same map, borders (zero padding)
// included.
TEST(Loss, SsimMapEqualsTheTwoDimensionalWindowsDefinition) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::rand({2, 3, 40, 36});
  const torch::Tensor y = (0.7 * x + 0.3 * torch::rand_like(x)).clamp(0, 1);
  const torch::Tensor g = torch::exp(-torch::pow(torch::arange(11, torch::kFloat64) - 5, 2) / (2 * 1.5 * 1.5));
  const torch::Tensor window = torch::outer(g, g) / (g.sum() * g.sum());
  const torch::Tensor w = window.expand({3, 1, 11, 11}).contiguous();
  auto blur = [&](const torch::Tensor& t) {
    return torch::nn::functional::conv2d(t, w, torch::nn::functional::Conv2dFuncOptions().padding(5).groups(3));
  };
  const torch::Tensor xd = x.to(torch::kFloat64), yd = y.to(torch::kFloat64);
  const torch::Tensor mx = blur(xd), my = blur(yd);
  const torch::Tensor sxx = blur(xd * xd) - mx * mx, syy = blur(yd * yd) - my * my, sxy = blur(xd * yd) - mx * my;
  const double c1 = 1e-4, c2 = 9e-4;
  const torch::Tensor expected = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
  const torch::Tensor actual = SsimMap(x, y);
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_LT((actual.to(torch::kFloat64) - expected).abs().max().item<double>(), 2e-5);
  // A channels-last input (the decoder's layout) gives the same map.
  const torch::Tensor cl = SsimMap(x.contiguous(torch::MemoryFormat::ChannelsLast), y);
  EXPECT_LT((cl - actual).abs().max().item<double>(), 1e-6);
}

}  // namespace
}  // namespace faceswap::train
