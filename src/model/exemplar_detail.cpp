#include "exemplar_detail.h"

#include <algorithm>
#include <cmath>

#include "faceswap/core/error.h"
#include "faceswap/model/tensor_image.h"

namespace faceswap::model {

namespace {

namespace F = torch::nn::functional;

// Chosen on person_a's held-out crops (bench/exemplar_detail_go_no_go.py) and eval (README):
// K = 4 patches blended (1 drew sharper and lost detail fidelity, 8 blurred), a search of
// 1/64 of the side (1/32 kept 0.003 more detail fidelity at 2.3 times the time), a blur of
// 1/64 of it before matching, the 32 nearest whole faces searched.
constexpr int kBlended = 4;
constexpr int kCandidates = 32;

// Matching looks at the luma only (ITU-R BT.601 weights): a third of the work, and the
// structure of a face is in it.
torch::Tensor Grey(const torch::Tensor& rgb) {
  return (rgb.select(1, 0) * 0.299 + rgb.select(1, 1) * 0.587 + rgb.select(1, 2) * 0.114).unsqueeze(1);
}

torch::Tensor Shrunk(const torch::Tensor& images, int side) {
  return F::adaptive_avg_pool2d(images, F::AdaptiveAvgPool2dFuncOptions({side, side}));
}

}  // namespace

ExemplarDetail::ExemplarDetail(const std::vector<cv::Mat>& crops, int small_side, int side)
    : small_side_(small_side), side_(side), scale_(side / std::max(1, small_side)) {
  if (small_side < 16 || side % small_side != 0 || scale_ < 2) {
    throw UsageError("exemplar detail needs a crop side that is a multiple (at least 2x) of the face's, got " +
                     std::to_string(side) + " and " + std::to_string(small_side));
  }
  patch_ = small_side / 4;
  stride_ = patch_ / 2;
  search_ = std::max(1, small_side / 64);
  const double sigma = small_side / 64.0;
  const int radius = static_cast<int>(std::ceil(3 * sigma));
  torch::Tensor t = torch::arange(-radius, radius + 1, torch::kFloat32);
  blur_kernel_ = torch::exp(-t * t / (2 * sigma * sigma));
  blur_kernel_ = blur_kernel_ / blur_kernel_.sum();
  torch::Tensor w = torch::hann_window(patch_ * scale_ + 2, /*periodic=*/false).slice(0, 1, patch_ * scale_ + 1);
  window_ = (w.unsqueeze(1) * w.unsqueeze(0)).unsqueeze(0);
  window_sum_ = torch::zeros({1, side, side});
  const int64_t big = static_cast<int64_t>(patch_) * scale_;
  for (int64_t y0 = 0; y0 + big <= side; y0 += static_cast<int64_t>(stride_) * scale_) {
    for (int64_t x0 = 0; x0 + big <= side; x0 += static_cast<int64_t>(stride_) * scale_) {
      window_sum_.slice(1, y0, y0 + big).slice(2, x0, x0 + big).add_(window_);
    }
  }
  window_sum_.clamp_min_(1e-6);

  const int64_t pad = static_cast<int64_t>(search_) * scale_;
  std::vector<torch::Tensor> smalls, bands;
  for (size_t begin = 0; begin < crops.size(); begin += 32) {
    const std::vector<cv::Mat> chunk(crops.begin() + static_cast<std::ptrdiff_t>(begin),
                                     crops.begin() + static_cast<std::ptrdiff_t>(std::min(crops.size(), begin + 32)));
    const torch::Tensor full = ImagesToTensor(chunk, side);
    const torch::Tensor small = Shrunk(full, small_side);
    smalls.push_back(Blurred(Grey(small)));
    bands.push_back(F::pad(full - Enlarged(small), F::PadFuncOptions({pad, pad, pad, pad})).to(torch::kHalf));
  }
  if (smalls.empty()) {
    small_ = torch::zeros({0, 1, small_side, small_side});
    return;
  }
  small_ = torch::cat(smalls);
  band_ = torch::cat(bands);
  small_padded_ = F::pad(small_, F::PadFuncOptions({search_, search_, search_, search_}).mode(torch::kReplicate));
}

torch::Tensor ExemplarDetail::Blurred(const torch::Tensor& images) const {
  const int64_t radius = blur_kernel_.size(0) / 2;
  const int64_t channels = images.size(1);
  const torch::Tensor kx = blur_kernel_.view({1, 1, 1, -1}).repeat({channels, 1, 1, 1});
  const torch::Tensor ky = blur_kernel_.view({1, 1, -1, 1}).repeat({channels, 1, 1, 1});
  torch::Tensor x = F::pad(images, F::PadFuncOptions({radius, radius, 0, 0}).mode(torch::kReplicate));
  x = F::conv2d(x, kx, F::Conv2dFuncOptions().groups(channels));
  x = F::pad(x, F::PadFuncOptions({0, 0, radius, radius}).mode(torch::kReplicate));
  return F::conv2d(x, ky, F::Conv2dFuncOptions().groups(channels));
}

torch::Tensor ExemplarDetail::Enlarged(const torch::Tensor& images) const {
  return F::interpolate(images, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{side_, side_})
                                    .mode(torch::kBicubic)
                                    .align_corners(false));
}

torch::Tensor ExemplarDetail::Draw(const torch::Tensor& faces) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor input = faces.to(torch::kCPU, torch::kFloat32);
  if (input.size(-1) != small_side_) {
    throw UsageError("exemplar detail draws " + std::to_string(small_side_) + " px faces, got " +
                     std::to_string(input.size(-1)));
  }
  if (exemplars() == 0) return Enlarged(input);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < input.size(0); ++i) out.push_back(DrawOne(input.slice(0, i, i + 1)));
  return torch::cat(out);
}

torch::Tensor ExemplarDetail::DrawOne(const torch::Tensor& face) const {
  const torch::Tensor query = Blurred(Grey(face));
  // The exemplars whose whole face, light removed, is nearest.
  torch::Tensor d = query - small_;
  d = d - d.mean({2, 3}, true);
  const int64_t candidates = std::min<int64_t>(kCandidates, small_.size(0));
  const torch::Tensor chosen = std::get<1>((d * d).sum({1, 2, 3}).topk(candidates, 0, /*largest=*/false));
  const torch::Tensor padded = small_padded_.index_select(0, chosen);

  // Each patch's cost against each candidate at each shift: (shifts * candidates, py, px).
  std::vector<torch::Tensor> costs;
  const auto pool = F::AvgPool2dFuncOptions(patch_).stride(stride_);
  for (int dy = -search_; dy <= search_; ++dy) {
    for (int dx = -search_; dx <= search_; ++dx) {
      const torch::Tensor e = padded.slice(2, search_ + dy, search_ + dy + small_side_)
                                  .slice(3, search_ + dx, search_ + dx + small_side_);
      const torch::Tensor diff = query - e;
      const torch::Tensor mean = F::avg_pool2d(diff, pool);
      costs.push_back((F::avg_pool2d(diff * diff, pool) - mean * mean).sum(1));
    }
  }
  const auto [best, index] = torch::cat(costs).topk(std::min<int64_t>(kBlended, candidates), 0, /*largest=*/false);
  const torch::Tensor weights = torch::softmax(-best / (best.mean(0, true) + 1e-6), 0);

  const int64_t big = static_cast<int64_t>(patch_) * scale_, pad = static_cast<int64_t>(search_) * scale_;
  const int64_t side_shifts = 2 * search_ + 1;
  torch::Tensor detail = torch::zeros({3, side_, side_});
  torch::Tensor patch = torch::empty({3, big, big});  // one buffer for every patch of the face
  const auto index_a = index.accessor<int64_t, 3>();
  const auto weight_a = weights.accessor<float, 3>();
  const auto chosen_a = chosen.accessor<int64_t, 1>();
  for (int64_t py = 0; py < index.size(1); ++py) {
    for (int64_t px = 0; px < index.size(2); ++px) {
      const int64_t y0 = py * stride_ * scale_, x0 = px * stride_ * scale_;
      patch.zero_();
      for (int64_t j = 0; j < index.size(0); ++j) {
        const int64_t flat = index_a[j][py][px];
        const int64_t shift = flat / candidates, n = chosen_a[flat % candidates];
        const int64_t dy = shift / side_shifts - search_, dx = shift % side_shifts - search_;
        const int64_t ys = pad + y0 + dy * scale_, xs = pad + x0 + dx * scale_;
        patch.add_(band_[n].slice(1, ys, ys + big).slice(2, xs, xs + big).to(torch::kFloat32), weight_a[j][py][px]);
      }
      detail.slice(1, y0, y0 + big).slice(2, x0, x0 + big).add_(patch * window_);
    }
  }
  return (Enlarged(face) + (detail / window_sum_).unsqueeze(0)).clamp(0.0, 1.0);
}

}  // namespace faceswap::model
