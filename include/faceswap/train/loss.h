#pragma once
// Training losses. Includes LibTorch.

#include <torch/torch.h>

namespace faceswap::train {

// Per-pixel SSIM map (Wang et al., "Image Quality Assessment: From Error Visibility to
// Structural Similarity", IEEE TIP 2004): 11x11 Gaussian window, sigma 1.5,
// C1 = (0.01 L)^2, C2 = (0.03 L)^2 with L = 1. Inputs N x C x H x W in [0, 1].
torch::Tensor SsimMap(const torch::Tensor& x, const torch::Tensor& y);

// mean(w * |x - y|) + mean(w * (1 - SSIM) / 2), w broadcast over channels (N x 1 x H x W).
torch::Tensor FaceLoss(const torch::Tensor& output, const torch::Tensor& target, const torch::Tensor& weight);

// FaceLoss of a face drawn at a smaller side than the target (the coarse face of a preset
// with detail levels): target and weight are shrunk to its side by area averaging first.
torch::Tensor CoarseFaceLoss(const torch::Tensor& coarse, const torch::Tensor& target, const torch::Tensor& weight);

// The loss of a face drawn with detail levels, at the full side: mean(w * |x - y|) plus
// the same over the kDetailLossBands finest bands of a Laplacian pyramid of x - y (2x2
// means down, nearest up), so that missing fine detail costs more than its small share of
// the plain L1. Cheaper than SSIM at this side (measured: 27 + 74 ms against 680 ms for 32
// faces of 256 px, forward and backward, on 2 cores); the coarse face keeps L1 + DSSIM.
inline constexpr int kDetailLossBands = 2;
torch::Tensor DetailLoss(const torch::Tensor& output, const torch::Tensor& target, const torch::Tensor& weight);

// Focal frequency loss (Jiang, Dai, Wu & Loy, "Focal Frequency Loss for Image
// Reconstruction and Synthesis", ICCV 2021): the squared distance between the 2-D Fourier
// spectra of output and target (orthonormal FFT per channel), each frequency weighted by
// its own distance to the power alpha = 1, scaled to [0, 1] per image and not
// differentiated, so the frequencies the network gets most wrong (the fine detail an
// autoencoder blurs) weigh most. N x C x H x W in [0, 1].
torch::Tensor FocalFrequencyLoss(const torch::Tensor& output, const torch::Tensor& target);

}  // namespace faceswap::train
