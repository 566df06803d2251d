#pragma once
// The networks: one shared encoder, one decoder per identity.
//
// This header includes LibTorch. Only the model and train modules include it; the rest
// of the program talks to networks through model::Swapper (cv::Mat in, cv::Mat out).

#include <torch/torch.h>

#include "faceswap/model/preset.h"

namespace faceswap::model {

// Faces go in and come out as float N x 3 x R x R, RGB order, values in [0, 1].
struct Decoded {
  torch::Tensor rgb;   // N x 3 x R x R
  torch::Tensor mask;  // N x 1 x R x R in [0, 1]; undefined when the preset has no mask
};

class FaceAutoencoderImpl : public torch::nn::Module {
 public:
  FaceAutoencoderImpl(const Preset& preset, int identities);

  torch::Tensor Encode(const torch::Tensor& faces);
  Decoded Decode(const torch::Tensor& code, int identity);
  Decoded Forward(const torch::Tensor& faces, int identity) { return Decode(Encode(faces), identity); }

  // Progressive presets grow from preset.start_resolution to preset.resolution; `alpha`
  // in [0, 1] fades the newest layers in (ProGAN: out = a*new + (1-a)*up(previous)).
  // Fixed presets accept only their own resolution.
  void SetStage(int resolution, double alpha);
  int current_resolution() const { return resolution_; }
  double current_alpha() const { return alpha_; }

  const Preset& preset() const { return preset_; }
  int identities() const { return identities_; }
  // Parameters of the shared encoder and of one decoder (for per-part learning rates, tests).
  std::vector<torch::Tensor> EncoderParameters() const;
  std::vector<torch::Tensor> DecoderParameters(int identity) const;

 private:
  struct Parts;
  Preset preset_;
  int identities_;
  int resolution_;
  double alpha_ = 1.0;
  std::shared_ptr<Parts> parts_;
};
TORCH_MODULE(FaceAutoencoder);

// Where a progressive preset is after `iteration` steps when each stage trains for
// `stage_iterations` (the first half of every stage after the first fades in).
struct Stage {
  int resolution = 0;
  double alpha = 1.0;
};
Stage StageAt(const Preset& preset, int64_t iteration, int64_t stage_iterations);

}  // namespace faceswap::model
