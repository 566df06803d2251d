#pragma once
// dlib's face-recognition ResNet (face/identity.h) re-declared in LibTorch, so that a
// training loss can ask whether a generated face still shows the same person and pass the
// answer's gradient back into the generator. The weights come from the same file through
// face::ExportIdentityNetwork; on the CPU the descriptor equals face::IdentityEncoder's to
// 4e-7 per component (tests/train/identity_net_test.cpp measures it on dlib's johns chips,
// whose components reach 0.4). On Ampere and later GPUs LibTorch lets cuDNN convolve in
// TF32 by default, so expect a looser match there (not measured); harmless for a loss.
//
//   train::IdentityNet net = train::LoadIdentityNet();
//   net->to(device);
//   const torch::Tensor fake = net->Describe(train::ChipsFromFaces(swapped, coverage));
//   const torch::Tensor real = net->Describe(train::ChipsFromFaces(target, coverage)).detach();
//   const torch::Tensor identity_loss = (fake - real).norm(2, 1).mean();
//
// The network is frozen: no parameter requires a gradient and it has no layer whose
// behaviour depends on train() or eval(). Gradients reach the input only. Includes LibTorch.

#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <vector>

#include "faceswap/face/identity.h"

namespace faceswap::train {

class IdentityNetImpl : public torch::nn::Module {
 public:
  // InputError when `network` is not the layer sequence of dlib's network (see Describe).
  explicit IdentityNetImpl(const face::IdentityNetwork& network);

  // chips: N x 3 x 150 x 150 (face::kIdentityChipSize), RGB, values in [0, 1], cut the way
  // face::IdentityChip cuts them (or by ChipsFromFaces). Returns N x 128 descriptors,
  // comparable with face::Distance's threshold kSamePersonDistance.
  torch::Tensor Describe(const torch::Tensor& chips);
  torch::Tensor forward(const torch::Tensor& chips) { return Describe(chips); }

 private:
  // Per-channel scale * x + shift (dlib's affine_: batch norm folded for inference).
  struct Affine {
    torch::Tensor scale, shift;  // 1 x C x 1 x 1
    torch::Tensor operator()(const torch::Tensor& x) const { return torch::addcmul(shift, x, scale); }
  };
  // Two 3x3 convolutions and a shortcut; a unit whose first convolution has stride 2 also
  // halves the shortcut with 2x2 average pooling.
  struct Unit {
    torch::nn::Conv2d first{nullptr}, second{nullptr};
    Affine first_affine, second_affine;
    bool halves = false;
  };

  torch::nn::Conv2d AddConvolution(const std::string& name, const face::IdentityNetLayer& layer);
  Affine AddAffine(const std::string& name, const face::IdentityNetLayer& layer);

  torch::Tensor rgb_mean_;  // 1 x 3 x 1 x 1, pixel units (0..255)
  torch::nn::Conv2d stem_{nullptr};
  Affine stem_affine_;
  std::vector<Unit> units_;
  torch::nn::Linear descriptor_{nullptr};
};
TORCH_MODULE(IdentityNet);

// The network from the file face::ResolveModelFile finds (or `model`); InputError when
// missing or not dlib's network. CPU; move it with ->to(device).
IdentityNet LoadIdentityNet(const std::optional<std::filesystem::path>& model = {});

// Aligned face crops as the model sees them (N x 3 x R x R, RGB [0, 1], cut by face::Align
// with AlignOptions::coverage `coverage`) -> N x 3 x 150 x 150 chips for Describe, by
// bilinear sampling, differentiable with respect to `faces`.
//
// Geometry: face::Align and dlib's chip cutter (get_face_chip_details, extract_image_chip)
// both place dlib's mean-face template by its unit square. The crop spans `coverage` unit
// squares with the template's centre at crop pixel R/2; dlib's chip, with padding 0.25 on
// every side, spans 1.5 of them. So the chip is the central 1.5 / coverage of the crop,
// scaled to 150 px: for coverage 1.5 a resize, for larger coverages a zoom into the middle,
// for smaller ones a chip that reaches beyond the crop (edge pixels are repeated there, as
// face::Align repeats the frame's border). The sub-pixel details follow dlib's cutter as if
// it cut from the crop: its chip is centred on the template's centre (half a crop pixel
// right of and below the crop's middle) and spans 1.5 / coverage of the crop less one crop
// pixel from its first to its last pixel centre (centered_drect's width - 1). Following
// them rather than a plain resize brings the descriptor of a real face nearer dlib's (on
// the shared images, 256 px crops: 0.04-0.10 from dlib's own chip instead of 0.06-0.12).
// What remains is the second interpolation (frame -> crop -> chip instead of frame -> chip)
// and the landmarks dlib's cutter rounds to whole pixels.
//
// A crop much larger than the chip is first averaged down by the whole factor (area
// interpolation), so that sampling does not alias.
torch::Tensor ChipsFromFaces(const torch::Tensor& faces, double coverage);

}  // namespace faceswap::train
