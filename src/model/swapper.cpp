#include "faceswap/model/swapper.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "faceswap/core/error.h"
#include "faceswap/model/autocast.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/tensor_image.h"
#include "exemplar_detail.h"

namespace faceswap::model {

namespace {

namespace F = torch::nn::functional;

torch::Tensor Resized(const torch::Tensor& images, int64_t side) {  // bilinear
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{side, side})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
}

// Where the source face is visible, from how well the model redraws it (FaceShifter's
// HEAR-Net idea, Li et al. 2019): each face is redrawn by the decoder that redraws it best
// (its own identity's, for the model's people), and where the redraw differs from the face
// far more than it does over most of the face, something the model never saw covers it.
// The difference is box-blurred per colour channel before its magnitude is taken (over 5
// px at 64: the redraw's misplaced fine texture cancels, a covering shape's colour does
// not), averaged over the channels and blurred again over 3 px, then divided by its median
// over the face, so that the threshold follows how well this model draws this face: a
// stranger's face, redrawn worse everywhere, is not taken for covered. Visible below 2
// medians, covered above 5, a ramp between. Chosen on eval's held-out occluders and the
// occlusion test's moving patch (README, "Things in front of the face"); an absolute
// threshold lost much of the face of a model trained 4 minutes and of strangers.
constexpr double kVisibleBelow = 2.0, kCoveredAbove = 5.0;

// The mean over a side x side box cut to the image; in two passes (a row, then a column),
// which give the same means (the box and its count of pixels inside the image both
// factor), at 2 side additions a pixel instead of side squared.
torch::Tensor BoxBlur(const torch::Tensor& images, int64_t side) {
  const auto pass = [side](const torch::Tensor& x, bool rows) {
    const std::vector<int64_t> kernel = rows ? std::vector<int64_t>{1, side} : std::vector<int64_t>{side, 1};
    const std::vector<int64_t> padding = rows ? std::vector<int64_t>{0, side / 2} : std::vector<int64_t>{side / 2, 0};
    return F::avg_pool2d(x, F::AvgPool2dFuncOptions(kernel).stride(1).padding(padding).count_include_pad(false));
  };
  return pass(pass(images, true), false);
}

torch::Tensor VisibleByRedraw(FaceAutoencoder& net, const torch::Tensor& code, const torch::Tensor& faces,
                              int drawn_identity, const Decoded& drawn) {
  const torch::Tensor source = faces.to(torch::kFloat32);
  const int64_t side = source.size(-1);
  const int64_t color_box = std::max<int64_t>(1, side / 13) | 1, difference_box = std::max<int64_t>(1, side / 21) | 1;
  torch::Tensor difference, best_error;
  for (int j = 0; j < net->identities(); ++j) {
    // The face already drawn serves when it is the decoder's own face at the encoder's side.
    torch::Tensor redrawn = (j == drawn_identity && drawn.rgb.size(-1) == side && !net->preset().detail_stage)
                                ? drawn.rgb
                                : net->Decode(code, j, false).rgb;
    redrawn = redrawn.to(torch::kFloat32);
    if (redrawn.size(-1) != side) redrawn = Resized(redrawn, side);
    const torch::Tensor d = BoxBlur(redrawn - source, color_box).abs().mean(1, true);
    const torch::Tensor error = d.mean({1, 2, 3});
    if (!difference.defined()) {
      difference = d;
      best_error = error;
    } else {
      difference = torch::where((error < best_error).view({-1, 1, 1, 1}), d, difference);
      best_error = torch::min(error, best_error);
    }
  }
  difference = BoxBlur(difference, difference_box);
  const torch::Tensor median = std::get<0>(difference.flatten(1).median(1)).view({-1, 1, 1, 1});
  const torch::Tensor relative = difference / (median + 1e-4);
  return 1.0 - ((relative - kVisibleBelow) / (kCoveredAbove - kVisibleBelow)).clamp(0.0, 1.0);
}

}  // namespace

struct Swapper::Impl {
  ModelInfo info;
  DeviceKind device_kind = DeviceKind::kCpu;
  Precision precision = Precision::kFp32;
  torch::Device device{torch::kCPU};
  FaceAutoencoder net{nullptr};
  bool masks = true;
  // Per identity, when drawn with exemplars: the loader until the first face, then the detail.
  std::vector<ExemplarLoader> detail_loader;
  std::vector<std::unique_ptr<ExemplarDetail>> detail;
  int detail_side = 0;

  const ExemplarDetail& DetailFor(int identity) {
    const auto i = static_cast<size_t>(identity);
    if (i >= detail.size() || (!detail[i] && !detail_loader[i])) {
      throw UsageError("no exemplar crops were given for identity " + info.identities[i]);
    }
    if (!detail[i]) {
      const std::vector<cv::Mat> crops = detail_loader[i]();
      const auto start = std::chrono::steady_clock::now();
      detail[i] = std::make_unique<ExemplarDetail>(crops, net->current_resolution(), detail_side);
      spdlog::debug("exemplar detail for '{}': {} crops prepared in {:.2f} s", info.identities[i], crops.size(),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      detail_loader[i] = nullptr;
    }
    return *detail[i];
  }
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
int Swapper::resolution() const {
  return impl_->detail_side > 0 ? impl_->detail_side : impl_->net->current_resolution();
}
DeviceKind Swapper::device() const { return impl_->device_kind; }
Precision Swapper::precision() const { return impl_->precision; }
void Swapper::set_masks(bool on) { impl_->masks = on; }
bool Swapper::masks() const { return impl_->masks; }

std::string Swapper::ExemplarsUnfit(int side) const {
  const int small = impl_->net->current_resolution();
  if (impl_->net->preset().detail_stage || small != impl_->net->input_resolution()) {
    return "exemplar detail is for models that draw the face at the side they see it, not " + impl_->info.preset +
           ", whose detail stage draws it larger";
  }
  if (side % small != 0 || side / small < 2) {
    return "exemplar crops of " + std::to_string(side) + " px cannot enlarge " + std::to_string(small) +
           " px faces (a multiple of at least 2 is needed)";
  }
  return {};
}

void Swapper::SetExemplars(int identity, ExemplarLoader load, int side) {
  if (identity < 0 || identity >= static_cast<int>(impl_->info.identities.size())) {
    throw UsageError("identity index " + std::to_string(identity) + " out of range");
  }
  if (const std::string unfit = ExemplarsUnfit(side); !unfit.empty()) throw UsageError(unfit);
  if (impl_->detail_side > 0 && impl_->detail_side != side) throw UsageError("exemplar crops of different sides");
  impl_->detail.resize(impl_->info.identities.size());
  impl_->detail_loader.resize(impl_->info.identities.size());
  impl_->detail[static_cast<size_t>(identity)].reset();
  impl_->detail_loader[static_cast<size_t>(identity)] = std::move(load);
  impl_->detail_side = side;
}

void Swapper::PrepareExemplars(int identity) {
  for (size_t i = 0; i < impl_->detail_loader.size(); ++i) {
    if ((identity < 0 || static_cast<int>(i) == identity) && impl_->detail_loader[i]) {
      impl_->DetailFor(static_cast<int>(i));
    }
  }
}

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
      const torch::Tensor code = impl_->net->Encode(input);
      decoded = impl_->net->Decode(code, identity);
      if (impl_->masks) {
        visible = VisibleByRedraw(impl_->net, code, input, identity, decoded);
        const torch::Tensor learned = impl_->net->VisibleFace(input);
        if (learned.defined()) visible = torch::min(visible, learned.to(torch::kFloat32));
      }
    }
    torch::Tensor rgb = decoded.rgb.to(torch::kCPU, torch::kFloat32);
    // The mask stays at the side the network draws; exemplar detail draws the face larger.
    const int64_t mask_side = rgb.size(-1);
    std::vector<cv::Mat> detailed;  // BGR at the crops' side
    if (impl_->detail_side > 0) detailed = impl_->DetailFor(identity).Draw(rgb);
    torch::Tensor mask = decoded.mask.defined() ? decoded.mask.to(torch::kCPU, torch::kFloat32) : torch::Tensor();
    if (visible.defined()) {
      // The source face's visible part (what is not covered).
      visible = visible.to(torch::kCPU);
      if (visible.size(-1) != mask_side) visible = Resized(visible, mask_side);
      mask = mask.defined() ? torch::min(mask, visible) : visible;
    }
    for (size_t i = 0; i < chunk.size(); ++i) {
      SwapOutput out;
      out.face = detailed.empty() ? TensorToImage(rgb, static_cast<int>(i)) : std::move(detailed[i]);
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
