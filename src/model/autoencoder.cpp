#include "faceswap/model/autoencoder.h"

#include <map>
#include <utility>

#include "faceswap/core/error.h"

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace faceswap::model {
namespace {

constexpr double kLeak = 0.1;

nn::Conv2d Conv(int in, int out, int kernel, int stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

torch::Tensor LeakyRelu(const torch::Tensor& x) {
  return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(kLeak));
}

// 3x3 convolution to 4x the channels, then pixel shuffle: doubles the side without the
// checkerboard artefacts of transposed convolutions.
struct UpscaleImpl : nn::Module {
  UpscaleImpl(int in, int out) : conv(register_module("conv", Conv(in, out * 4, 3))) {}
  torch::Tensor forward(const torch::Tensor& x) { return F::pixel_shuffle(LeakyRelu(conv(x)), 2); }
  nn::Conv2d conv;
};
TORCH_MODULE(Upscale);

// Two 3x3 convolutions with a skip connection (hd preset).
struct ResidualImpl : nn::Module {
  explicit ResidualImpl(int channels)
      : conv1(register_module("conv1", Conv(channels, channels, 3))),
        conv2(register_module("conv2", Conv(channels, channels, 3))) {}
  torch::Tensor forward(const torch::Tensor& x) { return LeakyRelu(x + conv2(LeakyRelu(conv1(x)))); }
  nn::Conv2d conv1, conv2;
};
TORCH_MODULE(Residual);

// Fixed-resolution presets: four strided 5x5 convolutions, a dense bottleneck, an upscale.
struct ClassicSpec {
  std::vector<int> encoder;  // channels of the four strided convolutions
  int latent;                // width of the dense code
  int bottleneck;            // channels of the 4x4 map rebuilt from the code
  std::vector<int> decoder;  // channels of the three decoder upscales
};

ClassicSpec SpecFor(const Preset& preset) {
  // "original" follows the classic deepfakes autoencoder as described in issue 5 and
  // FaceForensics++; "lite" (and "lite128", the same at 128 px: one more doubling from a
  // larger code map) keeps its shape at a quarter of the width so that a 2-core CPU trains
  // it to a recognisable face in minutes.
  if (preset.name == "original") return {{128, 256, 512, 1024}, 1024, 1024, {256, 128, 64}};
  return {{32, 64, 128, 256}, 256, 256, {128, 64, 32}};
}

struct ClassicEncoderImpl : nn::Module {
  ClassicEncoderImpl(const ClassicSpec& s, int resolution) : side(resolution / 16), bottleneck(s.bottleneck) {
    int in = 3;
    for (size_t i = 0; i < s.encoder.size(); ++i) {
      convs.push_back(register_module("conv" + std::to_string(i), Conv(in, s.encoder[i], 5, 2)));
      in = s.encoder[i];
    }
    dense1 = register_module("dense1", nn::Linear(in * side * side, s.latent));
    dense2 = register_module("dense2", nn::Linear(s.latent, s.bottleneck * side * side));
    upscale = register_module("upscale", Upscale(s.bottleneck, s.bottleneck / 2));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (auto& conv : convs) x = LeakyRelu(conv(x));
    x = dense2(dense1(x.flatten(1)));
    return upscale(x.view({-1, bottleneck, side, side}));
  }
  int side, bottleneck;
  std::vector<nn::Conv2d> convs;
  nn::Linear dense1{nullptr}, dense2{nullptr};
  Upscale upscale{nullptr};
};
TORCH_MODULE(ClassicEncoder);

struct ClassicDecoderImpl : nn::Module {
  ClassicDecoderImpl(const ClassicSpec& s, bool mask) {
    int in = s.bottleneck / 2;
    for (size_t i = 0; i < s.decoder.size(); ++i) {
      ups.push_back(register_module("up" + std::to_string(i), Upscale(in, s.decoder[i])));
      in = s.decoder[i];
    }
    out = register_module("out", Conv(in, mask ? 4 : 3, 5));
  }
  torch::Tensor forward(torch::Tensor x) {
    for (auto& up : ups) x = up(x);
    return torch::sigmoid(out(x));
  }
  std::vector<Upscale> ups;
  nn::Conv2d out{nullptr};
};
TORCH_MODULE(ClassicDecoder);

// The detail stage ("sharp" preset): a small super-resolution network that enlarges one
// identity's S px face four times. Features at S (a 3x3 convolution, then three residual
// 3x3 ones), enlarged bilinearly and convolved twice (resize-convolution, Odena et al.
// 2016: a pixel-shuffle upscale in an earlier design drew a grid of 4 x 4 blocks), narrower
// at each doubling; the last 3x3 convolution draws a correction that is added to the
// bicubic enlargement of the face. It starts at zero, so an untrained stage is the bicubic
// enlargement. Shape and widths as bench/detail_stage_go_no_go.py measured them (about
// 0.4 GMAC per 256 px face).
struct DetailStageImpl : nn::Module {
  static constexpr int kWidth = 32, kFine = 16;
  DetailStageImpl()
      : head(register_module("head", Conv(3, kWidth, 3))),
        up1(register_module("up1", Conv(kWidth, kFine, 3))),
        up2(register_module("up2", Conv(kFine, kFine, 3))),
        rgb(register_module("rgb", Conv(kFine, 3, 3))) {
    for (int i = 0; i < 3; ++i) body.push_back(register_module("body" + std::to_string(i), Conv(kWidth, kWidth, 3)));
    torch::NoGradGuard no_grad;
    rgb->weight.zero_();
    rgb->bias.zero_();
  }
  torch::Tensor forward(const torch::Tensor& faces) {
    torch::Tensor f = LeakyRelu(head(faces));
    for (auto& conv : body) f = f + LeakyRelu(conv(f));
    f = LeakyRelu(up1(Enlarge(f, 2, torch::kBilinear)));
    f = LeakyRelu(up2(Enlarge(f, 2, torch::kBilinear)));
    return Enlarge(faces, 4, torch::kBicubic) + rgb(f);
  }
  static torch::Tensor Enlarge(const torch::Tensor& x, double factor, F::InterpolateFuncOptions::mode_t mode) {
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .scale_factor(std::vector<double>{factor, factor})
                                 .mode(mode)
                                 .align_corners(false));
  }
  nn::Conv2d head, up1, up2, rgb;
  std::vector<nn::Conv2d> body;
};
TORCH_MODULE(DetailStage);

// hd: progressive encoder and decoder (Naruniec et al., "High-Resolution Neural Face
// Swapping for Visual Effects", EGSR 2020; fade-in as in Karras et al., ProGAN, 2018).
// Channels per resolution level.
const std::map<int, int> kHdEncoderChannels = {{128, 32}, {64, 64}, {32, 128}, {16, 256}, {8, 512}, {4, 512}};
const std::map<int, int> kHdDecoderChannels = {{8, 256}, {16, 256}, {32, 128}, {64, 64}, {128, 32}};
constexpr int kHdLatent = 512;

struct ProgressiveEncoderImpl : nn::Module {
  ProgressiveEncoderImpl(const Preset& p) : start(p.start_resolution), top(p.resolution) {
    for (int r = top; r >= 8; r /= 2) {
      const int c = kHdEncoderChannels.at(r);
      if (r >= start) from_rgb.emplace(r, register_module("from_rgb" + std::to_string(r), Conv(3, c, 1)));
      res.emplace(r, register_module("res" + std::to_string(r), Residual(c)));
      down.emplace(r, register_module("down" + std::to_string(r), Conv(c, kHdEncoderChannels.at(r / 2), 3, 2)));
    }
    dense1 = register_module("dense1", nn::Linear(kHdEncoderChannels.at(4) * 16, kHdLatent));
    dense2 = register_module("dense2", nn::Linear(kHdLatent, kHdEncoderChannels.at(4) * 16));
    upscale = register_module("upscale", Upscale(kHdEncoderChannels.at(4), kHdDecoderChannels.at(8)));
  }
  torch::Tensor Down(int r, const torch::Tensor& x) { return LeakyRelu(down.at(r)(res.at(r)(x))); }
  torch::Tensor forward(const torch::Tensor& faces, int r, double alpha) {
    torch::Tensor x = Down(r, LeakyRelu(from_rgb.at(r)(faces)));
    if (r > start && alpha < 1.0) {
      const torch::Tensor previous = LeakyRelu(from_rgb.at(r / 2)(F::avg_pool2d(faces, F::AvgPool2dFuncOptions(2))));
      x = alpha * x + (1.0 - alpha) * previous;
    }
    for (int level = r / 2; level >= 8; level /= 2) x = Down(level, x);
    x = dense2(dense1(x.flatten(1)));
    return upscale(x.view({-1, kHdEncoderChannels.at(4), 4, 4}));
  }
  int start, top;
  std::map<int, nn::Conv2d> from_rgb, down;
  std::map<int, Residual> res;
  nn::Linear dense1{nullptr}, dense2{nullptr};
  Upscale upscale{nullptr};
};
TORCH_MODULE(ProgressiveEncoder);

struct ProgressiveDecoderImpl : nn::Module {
  ProgressiveDecoderImpl(const Preset& p) : start(p.start_resolution), top(p.resolution) {
    for (int r = 16; r <= top; r *= 2) {
      up.emplace(r, register_module("up" + std::to_string(r), Upscale(kHdDecoderChannels.at(r / 2), kHdDecoderChannels.at(r))));
      res.emplace(r, register_module("res" + std::to_string(r), Residual(kHdDecoderChannels.at(r))));
      if (r >= start) to_rgb.emplace(r, register_module("to_rgb" + std::to_string(r), Conv(kHdDecoderChannels.at(r), 4, 3)));
    }
  }
  torch::Tensor forward(torch::Tensor x, int r, double alpha) {
    torch::Tensor before_last;
    for (int level = 16; level <= r; level *= 2) {
      if (level == r) before_last = x;
      x = res.at(level)(up.at(level)(x));
    }
    torch::Tensor out = torch::sigmoid(to_rgb.at(r)(x));
    if (r > start && alpha < 1.0) {
      const torch::Tensor previous = torch::sigmoid(to_rgb.at(r / 2)(before_last));
      const torch::Tensor upsampled = F::interpolate(
          previous, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
      out = alpha * out + (1.0 - alpha) * upsampled;
    }
    return out;
  }
  int start, top;
  std::map<int, Upscale> up;
  std::map<int, Residual> res;
  std::map<int, nn::Conv2d> to_rgb;
};
TORCH_MODULE(ProgressiveDecoder);

}  // namespace

struct FaceAutoencoderImpl::Parts {
  ClassicEncoder classic_encoder{nullptr};
  std::vector<ClassicDecoder> classic_decoders;
  std::vector<DetailStage> detail_stages;  // presets with a detail stage: one per identity
  ProgressiveEncoder progressive_encoder{nullptr};
  std::vector<ProgressiveDecoder> progressive_decoders;
};

FaceAutoencoderImpl::FaceAutoencoderImpl(const Preset& preset, int identities, bool occlusion)
    : preset_(preset), identities_(identities), resolution_(preset.resolution), parts_(std::make_shared<Parts>()) {
  if (identities < 2) throw UsageError("a model needs at least two identities");
  if (preset.progressive) {
    parts_->progressive_encoder = register_module("encoder", ProgressiveEncoder(preset));
    for (int i = 0; i < identities; ++i) {
      parts_->progressive_decoders.push_back(
          register_module("decoder" + std::to_string(i), ProgressiveDecoder(preset)));
    }
  } else {
    const ClassicSpec spec = SpecFor(preset);
    parts_->classic_encoder = register_module("encoder", ClassicEncoder(spec, preset.EncoderSide(preset.resolution)));
    for (int i = 0; i < identities; ++i) {
      parts_->classic_decoders.push_back(
          register_module("decoder" + std::to_string(i), ClassicDecoder(spec, preset.has_mask)));
      if (preset.detail_stage) {
        parts_->detail_stages.push_back(register_module("detail" + std::to_string(i), DetailStage()));
      }
    }
  }
  if (occlusion) occlusion_ = register_module("occlusion", OcclusionNet());
  // Convolution weights (and, in Encode, the faces) in channels-last layout: LibTorch then
  // runs the convolutions through oneDNN, where Debian's LibTorch 1.13 sends NCHW ones down
  // a generic im2col + BLAS path. Measured here: a 3x3 convolution of 16 x 64 x 32 x 32
  // took 43.7 ms NCHW and 7.6 ms channels-last; a lite training step went from 51.8 to
  // 81.4 faces/s (fp32) and from 100.8 to 123.1 faces/s (bf16). Results are unchanged.
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

void FaceAutoencoderImpl::SetStage(int resolution, double alpha) {
  const bool valid = preset_.progressive
                         ? resolution >= preset_.start_resolution && resolution <= preset_.resolution &&
                               (resolution & (resolution - 1)) == 0
                         : resolution == preset_.resolution;
  if (!valid) throw UsageError("preset " + preset_.name + " cannot run at " + std::to_string(resolution) + " px");
  resolution_ = resolution;
  alpha_ = std::clamp(alpha, 0.0, 1.0);
}

torch::Tensor FaceAutoencoderImpl::Encode(const torch::Tensor& faces) {
  const int side = input_resolution();
  if (faces.dim() != 4 || faces.size(1) != 3 || faces.size(2) != side || faces.size(3) != side) {
    throw UsageError("encoder expects N x 3 x " + std::to_string(side) + " x " + std::to_string(side) + " faces");
  }
  const torch::Tensor input = faces.contiguous(torch::MemoryFormat::ChannelsLast);
  if (preset_.progressive) return parts_->progressive_encoder->forward(input, resolution_, alpha_);
  return parts_->classic_encoder->forward(input);
}

torch::Tensor FaceAutoencoderImpl::VisibleFace(const torch::Tensor& faces) {
  if (occlusion_.is_empty()) return torch::Tensor();
  return occlusion_->forward(faces.contiguous(torch::MemoryFormat::ChannelsLast));
}

void FaceAutoencoderImpl::CheckIdentity(int identity) const {
  if (identity < 0 || identity >= identities_) {
    throw UsageError("identity " + std::to_string(identity) + " out of range (model has " +
                     std::to_string(identities_) + ")");
  }
}

Decoded FaceAutoencoderImpl::Decode(const torch::Tensor& code, int identity, bool detail) {
  CheckIdentity(identity);
  const torch::Tensor out = preset_.progressive ? parts_->progressive_decoders[identity]->forward(code, resolution_, alpha_)
                                                : parts_->classic_decoders[identity]->forward(code);
  Decoded decoded;
  decoded.rgb = out.narrow(1, 0, 3);
  if (out.size(1) == 4) decoded.mask = out.narrow(1, 3, 1);
  if (detail && preset_.detail_stage) decoded.rgb = Enhance(decoded.rgb, identity).clamp(0.0, 1.0);
  return decoded;
}

torch::Tensor FaceAutoencoderImpl::Enhance(const torch::Tensor& faces, int identity) {
  CheckIdentity(identity);
  if (!preset_.detail_stage) throw UsageError("preset " + preset_.name + " has no detail stage");
  return parts_->detail_stages[identity]->forward(faces.contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor FaceAutoencoderImpl::Enhance(const torch::Tensor& faces, int identity, const DetailWindow& window) {
  const int m = kDetailWindowMargin, side = static_cast<int>(faces.size(-1));
  if (window.side <= 0 || window.x < m || window.y < m || window.x + window.side > side - m ||
      window.y + window.side > side - m) {
    throw UsageError("detail window outside the face's inner " + std::to_string(side - 2 * m) + " px");
  }
  const torch::Tensor cut =
      faces.narrow(2, window.y - m, window.side + 2 * m).narrow(3, window.x - m, window.side + 2 * m);
  const int64_t scale = 4;
  return Enhance(cut, identity).narrow(2, m * scale, window.side * scale).narrow(3, m * scale, window.side * scale);
}

std::vector<torch::Tensor> FaceAutoencoderImpl::EncoderParameters() const {
  return named_children().find("encoder") ? named_children()["encoder"]->parameters() : std::vector<torch::Tensor>{};
}

std::vector<torch::Tensor> FaceAutoencoderImpl::DecoderParameters(int identity) const {
  return named_children()["decoder" + std::to_string(identity)]->parameters();
}

Stage StageAt(const Preset& preset, int64_t iteration, int64_t stage_iterations) {
  if (!preset.progressive || stage_iterations <= 0) return {preset.resolution, 1.0};
  int resolution = preset.start_resolution;
  int64_t into_stage = iteration;
  while (resolution < preset.resolution && into_stage >= stage_iterations) {
    into_stage -= stage_iterations;
    resolution *= 2;
  }
  double alpha = 1.0;
  if (resolution > preset.start_resolution) {
    alpha = std::min(1.0, static_cast<double>(into_stage) / (0.5 * static_cast<double>(stage_iterations)));
  }
  return {resolution, alpha};
}

}  // namespace faceswap::model
