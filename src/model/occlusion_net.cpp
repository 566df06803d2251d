#include "faceswap/model/occlusion_net.h"

#include "faceswap/core/error.h"

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace faceswap::model {
namespace {

nn::Conv2d Conv3(int in, int out, int stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1));
}

torch::Tensor Act(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.1)); }

// Doubles `x` (bilinear) and joins it with the skip features of that side.
torch::Tensor UpJoin(const torch::Tensor& x, const torch::Tensor& skip) {
  const torch::Tensor up = F::interpolate(
      x, F::InterpolateFuncOptions().size(std::vector<int64_t>{skip.size(2), skip.size(3)}).mode(torch::kBilinear).align_corners(false));
  return torch::cat({up, skip}, 1);
}

}  // namespace

// Channels 8-16-32-32 at S, S/2, S/4, S/8: about 13 M multiply-adds a 64 px face, a
// twentieth of the lite autoencoder's. (A first version twice as wide, with the occluders
// in the autoencoder's inputs too, trained lite at 127 faces/s against 187 without.)
OcclusionNetImpl::OcclusionNetImpl()
    : in_(register_module("first", Conv3(3, 8))),
      down1_(register_module("down1", Conv3(8, 16, 2))),
      down2_(register_module("down2", Conv3(16, 32, 2))),
      down3_(register_module("down3", Conv3(32, 32, 2))),
      up2_(register_module("up2", Conv3(32 + 32, 16))),
      up1_(register_module("up1", Conv3(16 + 16, 8))),
      up0_(register_module("up0", Conv3(8 + 8, 8))),
      out_(register_module("last", Conv3(8, 1))) {}

torch::Tensor OcclusionNetImpl::forward(const torch::Tensor& faces) {
  if (faces.dim() != 4 || faces.size(1) != 3 || faces.size(2) % 8 != 0 || faces.size(3) % 8 != 0) {
    throw UsageError("the occlusion network expects N x 3 x S x S faces with S a multiple of 8");
  }
  const torch::Tensor s0 = Act(in_(faces));
  const torch::Tensor s1 = Act(down1_(s0));
  const torch::Tensor s2 = Act(down2_(s1));
  const torch::Tensor s3 = Act(down3_(s2));
  torch::Tensor x = Act(up2_(UpJoin(s3, s2)));
  x = Act(up1_(UpJoin(x, s1)));
  x = Act(up0_(UpJoin(x, s0)));
  return torch::sigmoid(out_(x));
}

}  // namespace faceswap::model
