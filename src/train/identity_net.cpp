#include "faceswap/train/identity_net.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "faceswap/core/error.h"
#include "faceswap/face/align.h"

namespace F = torch::nn::functional;

namespace faceswap::train {
namespace {

using face::IdentityLayerKind;
using face::IdentityNetLayer;

// dlib's input_rgb_image_sized: (pixel - mean) / 256 (dlib/dnn/input.h).
constexpr double kInputScale = 256.0;
// The chip spans 1 + 2 * 0.25 template unit squares (dlib's padding 0.25, see identity.h).
constexpr double kChipCoverage = 1.5;

[[noreturn]] void Refuse(size_t index, const std::string& problem) {
  throw InputError("identity network layer " + std::to_string(index) + ": " + problem +
                   " (not dlib's face recognition ResNet)");
}

const IdentityNetLayer& Expect(const std::vector<IdentityNetLayer>& layers, size_t index, IdentityLayerKind kind) {
  if (index >= layers.size()) Refuse(index, "missing");
  const IdentityNetLayer& layer = layers[index];
  const size_t dims = kind == IdentityLayerKind::kConvolution ? 4 : kind == IdentityLayerKind::kAffine ? 1 : 2;
  if (layer.kind != kind || layer.shape.size() != dims) Refuse(index, "unexpected kind or shape");
  int64_t count = 1;
  for (const int64_t d : layer.shape) count *= d;
  const size_t biases = kind == IdentityLayerKind::kFullyConnected ? 0 : static_cast<size_t>(layer.shape[0]);
  if (count <= 0 || layer.weights.size() != static_cast<size_t>(count) || layer.biases.size() != biases) {
    Refuse(index, "parameter count does not match its shape");
  }
  return layer;
}

torch::Tensor AsTensor(const std::vector<float>& values, torch::IntArrayRef shape) {
  return torch::tensor(values, torch::kFloat32).reshape(shape);
}

// dlib adds tensors of different sizes as if the smaller were padded with zeros at the end
// of each dimension (tt::add in dlib/cuda/tensor_tools.h; add_prev_ in layers.h sizes its
// output to the larger of the two). The network relies on it twice: a halving unit's
// shortcut has fewer channels than its convolutions, and where the convolutions give a
// smaller map than the pooled shortcut (8 px -> 3 vs 4; 4 px -> 1 vs 2) the extra rows and
// columns carry the shortcut alone.
torch::Tensor AddZeroPadded(const torch::Tensor& a, const torch::Tensor& b) {
  const auto pad_to = [](const torch::Tensor& x, int64_t c, int64_t h, int64_t w) {
    if (x.size(1) == c && x.size(2) == h && x.size(3) == w) return x;
    return F::pad(x, F::PadFuncOptions({0, w - x.size(3), 0, h - x.size(2), 0, c - x.size(1)}));
  };
  const int64_t c = std::max(a.size(1), b.size(1)), h = std::max(a.size(2), b.size(2)),
                w = std::max(a.size(3), b.size(3));
  return pad_to(a, c, h, w) + pad_to(b, c, h, w);
}

}  // namespace

IdentityNetImpl::IdentityNetImpl(const face::IdentityNetwork& network) {
  const std::vector<IdentityNetLayer>& layers = network.layers;
  rgb_mean_ = register_buffer(
      "rgb_mean", torch::tensor({network.rgb_mean[0], network.rgb_mean[1], network.rgb_mean[2]}).reshape({1, 3, 1, 1}));

  // Stem: convolution with its affine (then relu and 3x3/2 max pooling in Describe).
  size_t i = 0;
  const IdentityNetLayer& stem = Expect(layers, i++, IdentityLayerKind::kConvolution);
  if (stem.shape[1] != 3) Refuse(0, "the first convolution does not read RGB");
  stem_ = AddConvolution("stem", stem);
  stem_affine_ = AddAffine("stem_affine", Expect(layers, i++, IdentityLayerKind::kAffine));
  int64_t channels = stem.shape[0];

  // Residual units: four layers each, until the descriptor layer.
  while (i < layers.size() && layers[i].kind == IdentityLayerKind::kConvolution) {
    const std::string name = "unit" + std::to_string(units_.size());
    Unit unit;
    const IdentityNetLayer& first = Expect(layers, i, IdentityLayerKind::kConvolution);
    if (first.shape[1] != channels) {
      Refuse(i, "reads " + std::to_string(first.shape[1]) + " channels, not " + std::to_string(channels));
    }
    if (first.stride != 1 && first.stride != 2) Refuse(i, "stride " + std::to_string(first.stride));
    unit.halves = first.stride == 2;
    unit.first = AddConvolution(name + "_first", first);
    unit.first_affine = AddAffine(name + "_first_affine", Expect(layers, i + 1, IdentityLayerKind::kAffine));
    const IdentityNetLayer& second = Expect(layers, i + 2, IdentityLayerKind::kConvolution);
    if (second.shape[1] != first.shape[0] || second.shape[0] != first.shape[0] || second.stride != 1) {
      Refuse(i + 2, "does not continue its unit");
    }
    unit.second = AddConvolution(name + "_second", second);
    unit.second_affine = AddAffine(name + "_second_affine", Expect(layers, i + 3, IdentityLayerKind::kAffine));
    // Only a halving unit may widen: its shortcut is zero-padded (AddZeroPadded).
    if (!unit.halves && first.shape[0] != channels) Refuse(i, "widens without halving");
    channels = first.shape[0];
    units_.push_back(std::move(unit));
    i += 4;
  }

  const IdentityNetLayer& fc = Expect(layers, i, IdentityLayerKind::kFullyConnected);
  if (fc.shape[0] != channels) Refuse(i, "descriptor layer reads " + std::to_string(fc.shape[0]) + " numbers");
  if (i + 1 != layers.size()) Refuse(i + 1, "layers after the descriptor layer");
  descriptor_ = register_module(
      "descriptor", torch::nn::Linear(torch::nn::LinearOptions(fc.shape[0], fc.shape[1]).bias(false)));
  {
    torch::NoGradGuard no_grad;
    // dlib computes x * W (W inputs x outputs); Linear computes x * weight^T.
    descriptor_->weight.copy_(AsTensor(fc.weights, fc.shape).t());
  }

  for (torch::Tensor& p : parameters()) p.set_requires_grad(false);
  eval();
}

torch::nn::Conv2d IdentityNetImpl::AddConvolution(const std::string& name, const IdentityNetLayer& layer) {
  const auto& s = layer.shape;
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(s[1], s[0], {s[2], s[3]})
                             .stride(layer.stride)
                             .padding(layer.padding)
                             .bias(true));
  {
    torch::NoGradGuard no_grad;
    conv->weight.copy_(AsTensor(layer.weights, s));
    conv->bias.copy_(AsTensor(layer.biases, {s[0]}));
  }
  return register_module(name, conv);
}

IdentityNetImpl::Affine IdentityNetImpl::AddAffine(const std::string& name, const IdentityNetLayer& layer) {
  const int64_t c = layer.shape[0];
  Affine affine;
  affine.scale = register_parameter(name + "_scale", AsTensor(layer.weights, {1, c, 1, 1}), false);
  affine.shift = register_parameter(name + "_shift", AsTensor(layer.biases, {1, c, 1, 1}), false);
  return affine;
}

torch::Tensor IdentityNetImpl::Describe(const torch::Tensor& chips) {
  constexpr int kSide = face::kIdentityChipSize;
  if (chips.dim() != 4 || chips.size(1) != 3 || chips.size(2) != kSide || chips.size(3) != kSide) {
    std::ostringstream sizes;
    sizes << chips.sizes();
    throw UsageError("identity network expects N x 3 x " + std::to_string(kSide) + " x " + std::to_string(kSide) +
                     " chips, got " + sizes.str());
  }
  torch::Tensor x = (chips * 255.0 - rgb_mean_) / kInputScale;
  x = torch::relu(stem_affine_(stem_->forward(x)));
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2));
  for (Unit& unit : units_) {
    torch::Tensor y = torch::relu(unit.first_affine(unit.first->forward(x)));
    y = unit.second_affine(unit.second->forward(y));
    const torch::Tensor shortcut = unit.halves ? F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2)) : x;
    x = torch::relu(AddZeroPadded(y, shortcut));
  }
  return descriptor_->forward(x.mean({2, 3}));
}

IdentityNet LoadIdentityNet(const std::optional<std::filesystem::path>& model) {
  return IdentityNet(face::ExportIdentityNetwork(model));
}

torch::Tensor ChipsFromFaces(const torch::Tensor& faces, double coverage) {
  if (faces.dim() != 4 || faces.size(1) != 3 || faces.size(2) != faces.size(3)) {
    throw UsageError("ChipsFromFaces expects N x 3 x R x R faces");
  }
  face::AlignOptions options;
  options.coverage = coverage;
  options.Check();
  constexpr int kSide = face::kIdentityChipSize;
  const auto crop_side = static_cast<double>(faces.size(2));

  // affine_grid maps the chip's normalized coordinates (-1..1 edge to edge, align_corners
  // false) to the crop's. dlib's chip (identity_net.h) has its middle at the template's
  // centre, crop pixel S/2, i.e. normalized 1/S; from its first to its last pixel centre
  // it spans 1.5/coverage of the crop less one crop pixel, over 149 chip pixels.
  const double scale = (kChipCoverage / coverage - 1.0 / crop_side) * kSide / (kSide - 1);
  const double shift = 1.0 / crop_side;

  torch::Tensor x = faces;
  const auto factor = static_cast<int64_t>(std::floor(crop_side * kChipCoverage / coverage / kSide));
  if (factor >= 2) {
    // Normalized coordinates do not change with the resolution: theta still holds.
    const int64_t side = std::max<int64_t>(1, std::llround(crop_side / static_cast<double>(factor)));
    x = F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{side, side}).mode(torch::kArea));
  }
  const torch::Tensor theta =
      torch::tensor({scale, 0.0, shift, 0.0, scale, shift}, x.options()).reshape({1, 2, 3}).expand({x.size(0), 2, 3});
  const torch::Tensor grid = F::affine_grid(theta, {x.size(0), 3, kSide, kSide}, /*align_corners=*/false);
  return F::grid_sample(
      x, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
}

}  // namespace faceswap::train
