#include "faceswap/model/swapper.h"

#include <spdlog/spdlog.h>

#include "faceswap/core/error.h"
#include "faceswap/model/autocast.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/tensor_image.h"

namespace faceswap::model {

struct Swapper::Impl {
  ModelInfo info;
  DeviceKind device_kind = DeviceKind::kCpu;
  Precision precision = Precision::kFp32;
  torch::Device device{torch::kCPU};
  FaceAutoencoder net{nullptr};
};

Swapper::Swapper(const std::filesystem::path& model_dir, DeviceKind device, Precision precision)
    : impl_(std::make_unique<Impl>()) {
  impl_->info = LoadModelInfo(model_dir);
  impl_->device_kind = ResolveDevice(device);
  CheckPrecision(precision, impl_->device_kind);
  impl_->precision = precision;
  impl_->device = impl_->device_kind == DeviceKind::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  impl_->net = CreateNetwork(impl_->info);
  LoadCheckpoint(model_dir, impl_->net, nullptr, impl_->info, LoadWeights::kForDrawing);
  impl_->net->to(impl_->device);
  impl_->net->eval();
  spdlog::debug("{}: {} model, identities {}, iteration {}, {} px on {}", model_dir.string(), impl_->info.preset,
                impl_->info.identities.size(), impl_->info.iteration, resolution(), ToString(impl_->device_kind));
}

Swapper::~Swapper() = default;

const ModelInfo& Swapper::info() const { return impl_->info; }
int Swapper::resolution() const { return impl_->net->current_resolution(); }
DeviceKind Swapper::device() const { return impl_->device_kind; }
Precision Swapper::precision() const { return impl_->precision; }

std::vector<SwapOutput> Swapper::Swap(const std::vector<cv::Mat>& faces, int identity, int batch_size) {
  if (identity < 0 || identity >= static_cast<int>(impl_->info.identities.size())) {
    throw UsageError("identity index " + std::to_string(identity) + " out of range");
  }
  std::vector<SwapOutput> outputs;
  outputs.reserve(faces.size());
  torch::NoGradGuard no_grad;
  const int side = impl_->net->input_resolution();  // faces are shrunk to what the encoder takes
  for (size_t begin = 0; begin < faces.size(); begin += static_cast<size_t>(std::max(1, batch_size))) {
    const size_t end = std::min(faces.size(), begin + static_cast<size_t>(std::max(1, batch_size)));
    const std::vector<cv::Mat> chunk(faces.begin() + static_cast<std::ptrdiff_t>(begin),
                                     faces.begin() + static_cast<std::ptrdiff_t>(end));
    const torch::Tensor input = ImagesToTensor(chunk, side).to(impl_->device);
    Decoded decoded;
    torch::Tensor visible;
    {
      AutocastScope amp(impl_->precision, impl_->device.type());
      decoded = impl_->net->Forward(input, identity);
      visible = impl_->net->VisibleFace(input);
    }
    const torch::Tensor rgb = decoded.rgb.to(torch::kCPU, torch::kFloat32);
    torch::Tensor mask = decoded.mask.defined() ? decoded.mask.to(torch::kCPU, torch::kFloat32) : torch::Tensor();
    if (visible.defined()) {
      // The source face's visible part (what is not covered), at the drawn face's side.
      visible = visible.to(torch::kCPU, torch::kFloat32);
      if (visible.size(-1) != rgb.size(-1)) {
        namespace F = torch::nn::functional;
        visible = F::interpolate(visible, F::InterpolateFuncOptions()
                                              .size(std::vector<int64_t>{rgb.size(-2), rgb.size(-1)})
                                              .mode(torch::kBilinear)
                                              .align_corners(false));
      }
      mask = mask.defined() ? torch::min(mask, visible) : visible;
    }
    for (size_t i = 0; i < chunk.size(); ++i) {
      SwapOutput out;
      out.face = TensorToImage(rgb, static_cast<int>(i));
      if (mask.defined()) out.mask = TensorToMask(mask, static_cast<int>(i));
      out.mask_outlines_face = decoded.mask.defined();
      outputs.push_back(std::move(out));
    }
  }
  return outputs;
}

int Swapper::DefaultTarget(int source) const {
  if (impl_->info.identities.size() != 2) {
    throw UsageError("this model knows " + std::to_string(impl_->info.identities.size()) +
                     " identities: say which one to draw with --to");
  }
  return source == 0 ? 1 : 0;
}

int Swapper::IdentityIndex(const std::string& name) const {
  const int index = impl_->info.IdentityIndex(name);
  if (index < 0) {
    std::string names;
    for (const auto& n : impl_->info.identities) names += (names.empty() ? "" : ", ") + n;
    throw UsageError("the model has no identity '" + name + "' (it has: " + names + ")");
  }
  return index;
}

}  // namespace faceswap::model
