#pragma once
// The networks: one shared encoder, one decoder per identity.
//
// This header includes LibTorch. Only the model and train modules include it; the rest
// of the program talks to networks through model::Swapper (cv::Mat in, cv::Mat out).

#include <torch/torch.h>

#include "faceswap/model/occlusion_net.h"
#include "faceswap/model/preset.h"

namespace faceswap::model {

// Faces go in as float N x 3 x S x S and come out as N x 3 x R x R, RGB order, values in
// [0, 1]; S (input_resolution) is R except for presets with a detail stage (R = 4 S).
struct Decoded {
  torch::Tensor rgb;   // N x 3 x R x R (S x S when decoded without the detail stage)
  torch::Tensor mask;  // N x 1 x R x R in [0, 1]; undefined when the preset has no mask
};

// A square part of a face at the encoder's side S, for the detail stage: training runs the
// stage on windows of faces, where it measures it, as super-resolution networks train on
// patches (the whole face has 16x the window's pixels at a quarter of S). A window keeps
// kDetailWindowMargin pixels from every edge: the stage sees that far around it.
struct DetailWindow {
  int x = 0, y = 0, side = 0;
};
// The detail stage's reach, in S pixels: 4 3x3 convolutions at S, one at 2S and two at 4S
// (4 + 1/2 + 2/4 = 5), and one more for its two bilinear enlargements; the bicubic
// enlargement reaches 2. A test checks that a window draws the whole face's pixels.
inline constexpr int kDetailWindowMargin = 6;

class FaceAutoencoderImpl : public torch::nn::Module {
 public:
  // `occlusion`: with the occlusion network (model.json's occlusion_mask).
  FaceAutoencoderImpl(const Preset& preset, int identities, bool occlusion = false);

  torch::Tensor Encode(const torch::Tensor& faces);
  // `detail` false: without the detail stage (the decoder's own S px face; training
  // trains the stage apart, on real faces). Presets without a stage ignore it.
  Decoded Decode(const torch::Tensor& code, int identity, bool detail = true);
  Decoded Forward(const torch::Tensor& faces, int identity) { return Decode(Encode(faces), identity); }
  // The occlusion network on faces as Encode takes them: N x 1 x S x S, 1 where the face
  // is visible; undefined for a model without it.
  torch::Tensor VisibleFace(const torch::Tensor& faces);
  bool has_occlusion() const { return !occlusion_.is_empty(); }
  // The identity's detail stage on N x 3 x S x S faces: N x 3 x 4S x 4S, not clamped to
  // [0, 1]; with a window, only its part of the faces (the same pixels as the whole face's:
  // a test checks), UsageError for a window within the margin of an edge.
  torch::Tensor Enhance(const torch::Tensor& faces, int identity);
  torch::Tensor Enhance(const torch::Tensor& faces, int identity, const DetailWindow& window);

  // Progressive presets grow from preset.start_resolution to preset.resolution; `alpha`
  // in [0, 1] fades the newest layers in (ProGAN: out = a*new + (1-a)*up(previous)).
  // Fixed presets accept only their own resolution.
  void SetStage(int resolution, double alpha);
  int current_resolution() const { return resolution_; }  // side of the faces drawn
  int input_resolution() const { return preset_.EncoderSide(resolution_); }  // side of the faces encoded
  double current_alpha() const { return alpha_; }

  const Preset& preset() const { return preset_; }
  int identities() const { return identities_; }
  // Parameters of the shared encoder and of one decoder (for per-part learning rates, tests).
  std::vector<torch::Tensor> EncoderParameters() const;
  std::vector<torch::Tensor> DecoderParameters(int identity) const;

 private:
  void CheckIdentity(int identity) const;
  struct Parts;
  Preset preset_;
  int identities_;
  int resolution_;
  double alpha_ = 1.0;
  std::shared_ptr<Parts> parts_;
  OcclusionNet occlusion_{nullptr};
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
