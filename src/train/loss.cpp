#include "faceswap/train/loss.h"

#include <torch/fft.h>

#include <cmath>

namespace F = torch::nn::functional;

namespace faceswap::train {
namespace {

torch::Tensor GaussianWindow(int channels, const torch::TensorOptions& options) {
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
  const torch::Tensor g1 = torch::tensor(g).to(options);
  const torch::Tensor g2 = torch::outer(g1, g1);
  return g2.expand({channels, 1, kSize, kSize}).contiguous();
}

torch::Tensor Blur(const torch::Tensor& x, const torch::Tensor& window) {
  return F::conv2d(x, window, F::Conv2dFuncOptions().padding(5).groups(x.size(1)));
}

}  // namespace

torch::Tensor SsimMap(const torch::Tensor& x, const torch::Tensor& y) {
  constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;
  const torch::Tensor window = GaussianWindow(static_cast<int>(x.size(1)), x.options());
  const torch::Tensor mu_x = Blur(x, window), mu_y = Blur(y, window);
  const torch::Tensor mu_xx = mu_x * mu_x, mu_yy = mu_y * mu_y, mu_xy = mu_x * mu_y;
  const torch::Tensor s_xx = Blur(x * x, window) - mu_xx;
  const torch::Tensor s_yy = Blur(y * y, window) - mu_yy;
  const torch::Tensor s_xy = Blur(x * y, window) - mu_xy;
  return ((2 * mu_xy + kC1) * (2 * s_xy + kC2)) / ((mu_xx + mu_yy + kC1) * (s_xx + s_yy + kC2));
}

torch::Tensor FaceLoss(const torch::Tensor& output, const torch::Tensor& target, const torch::Tensor& weight) {
  const torch::Tensor l1 = (weight * (output - target).abs()).mean();
  const torch::Tensor dssim = (weight * (1.0 - SsimMap(output, target)) * 0.5).mean();
  return l1 + dssim;
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
