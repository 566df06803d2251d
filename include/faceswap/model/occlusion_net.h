#pragma once
// The occlusion network: which pixels of an aligned source face are the face itself and
// not something in front of it (a hand, a microphone, hair). A small U-Net (Ronneberger
// et al. 2015) on the face the encoder sees: the skip connections keep the occluder's
// outline, which a decoder's dense bottleneck loses (measured: a 4th decoder channel
// trained on the same labels drew only the landmark hull). Trained on synthetic
// occluders (blend/occluder.h); one per model, shared by all identities, because what
// covers a face is a property of the source frame, not of the person drawn.
//
// Includes LibTorch: model and train only.

#include <torch/torch.h>

namespace faceswap::model {

class OcclusionNetImpl : public torch::nn::Module {
 public:
  OcclusionNetImpl();
  // N x 3 x S x S faces in [0, 1] (S a multiple of 8) -> N x 1 x S x S, 1 where the face
  // is visible, 0 elsewhere (background or covered).
  torch::Tensor forward(const torch::Tensor& faces);

 private:
  torch::nn::Conv2d in_{nullptr}, down1_{nullptr}, down2_{nullptr}, down3_{nullptr};
  torch::nn::Conv2d up2_{nullptr}, up1_{nullptr}, up0_{nullptr}, out_{nullptr};
};
TORCH_MODULE(OcclusionNet);

}  // namespace faceswap::model
