#include "faceswap/train/loss.h"

#include <torch/fft.h>

#include <cmath>

namespace F = torch::nn::functional;

namespace faceswap::train {
namespace {

// The normalised 1-D Gaussian of SSIM's window (11 taps, sigma 1.5) as a depthwise
// kernel for `channels` channels: 1 x 11 when horizontal, else 11 x 1.
torch::Tensor GaussianTaps(int64_t channels, bool horizontal, const torch::TensorOptions& options) {
  constexpr int kSize = 11;
  constexpr double kSigma = 1.5;
  std::vector<float> g(kSize);
  double sum = 0;
  for (int i = 0; i < kSize; ++i) {
    const double d = i - kSize / 2;
    g[i] = static_cast<float>(std::exp(-d * d / (2 * kSigma * kSigma)));
    sum += g[i];
  }
  for (float& v : g) v = static_cast<float>(v / sum);
  const torch::Tensor taps = torch::tensor(g).to(options);
  return (horizontal ? taps.view({1, 1, 1, kSize}) : taps.view({1, 1, kSize, 1}))
      .expand({channels, 1, horizontal ? 1 : kSize, horizontal ? kSize : 1})
      .contiguous();
}

// The 11 x 11 Gaussian window is the outer product of the 1-D one, so SSIM's blur runs as
// two 11-tap passes, on all five maps in one depthwise call. Same values as the 2-D
// window (to float rounding, ~1e-6); measured with LibTorch 1.13 on 2 cores, 16 faces:
// 133 -> 21 ms at 64 px and 505 -> 64 ms at 128 px for the five blurs, forward and
// backward (the 2-D depthwise convolution takes oneDNN's slow path), a fifth of a lite step.
torch::Tensor Blur(const torch::Tensor& x) {
  const int64_t channels = x.size(1);
  const torch::Tensor vertical = GaussianTaps(channels, false, x.options());
  const torch::Tensor horizontal = GaussianTaps(channels, true, x.options());
  const torch::Tensor rows =
      F::conv2d(x, vertical, F::Conv2dFuncOptions().padding(torch::IntArrayRef{5, 0}).groups(channels));
  return F::conv2d(rows, horizontal, F::Conv2dFuncOptions().padding(torch::IntArrayRef{0, 5}).groups(channels));
}

}  // namespace

torch::Tensor SsimMap(const torch::Tensor& x, const torch::Tensor& y) {
  constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;
  const torch::Tensor blurred = Blur(torch::cat({x, y, x * x, y * y, x * y}, 1).contiguous());
  const std::vector<torch::Tensor> m = blurred.chunk(5, 1);
  const torch::Tensor &mu_x = m[0], &mu_y = m[1];
  const torch::Tensor mu_xx = mu_x * mu_x, mu_yy = mu_y * mu_y, mu_xy = mu_x * mu_y;
  const torch::Tensor s_xx = m[2] - mu_xx, s_yy = m[3] - mu_yy, s_xy = m[4] - mu_xy;
  return ((2 * mu_xy + kC1) * (2 * s_xy + kC2)) / ((mu_xx + mu_yy + kC1) * (s_xx + s_yy + kC2));
}

torch::Tensor FaceLoss(const torch::Tensor& output, const torch::Tensor& target, const torch::Tensor& weight) {
  const torch::Tensor l1 = (weight * (output - target).abs()).mean();
  const torch::Tensor dssim = (weight * (1.0 - SsimMap(output, target)) * 0.5).mean();
  return l1 + dssim;
}

torch::Tensor CoarseFaceLoss(const torch::Tensor& coarse, const torch::Tensor& target, const torch::Tensor& weight) {
  const int64_t factor = target.size(-1) / coarse.size(-1);
  if (factor <= 1) return FaceLoss(coarse, target, weight);
  const auto pool = F::AvgPool2dFuncOptions(factor);
  return FaceLoss(coarse, F::avg_pool2d(target, pool), F::avg_pool2d(weight, pool));
}

torch::Tensor DetailLoss(const torch::Tensor& output, const torch::Tensor& target, const torch::Tensor& weight) {
  torch::Tensor difference = output - target;
  torch::Tensor w = weight;
  torch::Tensor loss = (w * difference.abs()).mean();
  const auto pool = F::AvgPool2dFuncOptions(2);
  const auto twice = F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest);
  for (int band = 0; band < kDetailLossBands; ++band) {
    const torch::Tensor coarser = F::avg_pool2d(difference, pool);
    loss = loss + (w * (difference - F::interpolate(coarser, twice)).abs()).mean();
    difference = coarser;
    w = F::avg_pool2d(w, pool);
  }
  return loss;
}

torch::Tensor FocalFrequencyLoss(const torch::Tensor& output, const torch::Tensor& target) {
  const torch::Tensor fo = torch::fft::fft2(output.to(torch::kFloat32), c10::nullopt, {-2, -1}, "ortho");
  const torch::Tensor ft = torch::fft::fft2(target.to(torch::kFloat32), c10::nullopt, {-2, -1}, "ortho");
  const torch::Tensor distance = (fo - ft).abs().pow(2);  // N x C x H x W
  torch::Tensor weight = distance.sqrt().detach();
  const torch::Tensor peak = std::get<0>(weight.flatten(1).max(1)).clamp_min(1e-12).view({-1, 1, 1, 1});
  weight = weight / peak;
  return (weight * distance).mean();
}

}  // namespace faceswap::train
