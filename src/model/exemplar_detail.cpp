#include "exemplar_detail.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "faceswap/core/error.h"
#include "faceswap/core/huge_pages.h"

namespace faceswap::model {

namespace {

// Chosen on person_a's held-out crops (bench/exemplar_detail_go_no_go.py) and eval (README):
// K = 4 patches blended (1 drew sharper and lost detail fidelity, 8 blurred), a search of
// 1/64 of the side (1/32 kept 0.003 more detail fidelity at 2.3 times the time), a blur of
// 1/64 of it before matching, the 32 nearest whole faces searched.
constexpr int kBlended = 4;
constexpr int kCandidates = 32;
// The bands are kept in whole grey levels, 8-bit (a quarter of the memory of floats, and
// read as fast as the arithmetic goes): a difference from the enlargement past half the
// range (beyond any the crops hold but a few pixels at a hard edge) is cut there.
constexpr float kBandStep = 1.0f / 255.0f;

}  // namespace

ExemplarDetail::ExemplarDetail(const std::vector<cv::Mat>& crops, int small_side, int side)
    : small_side_(small_side), side_(side), scale_(side / std::max(1, small_side)) {
  if (small_side < 16 || small_side % 8 != 0 || side % small_side != 0 || scale_ < 2) {
    throw UsageError("exemplar detail needs a crop side that is a multiple (at least 2x) of the face's, got " +
                     std::to_string(side) + " and " + std::to_string(small_side));
  }
  patch_ = small_side / 4;
  stride_ = patch_ / 2;
  search_ = std::max(1, small_side / 64);
  blur_sigma_ = small_side / 64.0;
  torch::Tensor w = torch::hann_window(patch_ * scale_ + 2, /*periodic=*/false).slice(0, 1, patch_ * scale_ + 1);
  window_ = (w.unsqueeze(1) * w.unsqueeze(0)).unsqueeze(0);
  torch::Tensor window_sum = torch::zeros({1, side, side});
  const int64_t big = static_cast<int64_t>(patch_) * scale_;
  for (int64_t y0 = 0; y0 + big <= side; y0 += static_cast<int64_t>(stride_) * scale_) {
    for (int64_t x0 = 0; x0 + big <= side; x0 += static_cast<int64_t>(stride_) * scale_) {
      window_sum.slice(1, y0, y0 + big).slice(2, x0, x0 + big).add_(window_);
    }
  }
  const torch::Tensor inverse = (1.0 / window_sum.clamp_min(1e-6)).contiguous();
  inverse_window_sum_.assign(inverse.data_ptr<float>(), inverse.data_ptr<float>() + inverse.numel());

  // Each crop's band (the crop less the bicubic enlargement of its shrunk copy) in whole
  // grey levels, planar RGB, with a border of zeros for the search's shifts; OpenCV's
  // resizes (area average down, bicubic up: the kernel Draw enlarges with) and its threads.
  const int count = static_cast<int>(crops.size());
  const int pad = search_ * scale_, padded = side + 2 * pad;
  for (const cv::Mat& crop : crops) {
    if (crop.type() != CV_8UC3 || crop.cols != side || crop.rows != side) {
      throw UsageError("exemplar crops must be " + std::to_string(side) + " px BGR images");
    }
  }
  band_ = torch::empty({count, 3, padded, padded}, torch::kInt8);
  core::AdviseHugePages(band_.data_ptr(), static_cast<size_t>(band_.numel()));
  exemplar_flat_ = torch::empty({count, small_side * small_side});
  small_padded_ = torch::empty({count, small_side + 2 * search_, small_side + 2 * search_});
  int8_t* bands = band_.data_ptr<int8_t>();
  // Two threads: this runs when the first face is drawn, while the stages behind the
  // network wait for it (convert runs OpenCV on one thread: its stages are the parallelism).
  const auto prepare = [&](int begin, int end) {
    cv::Mat shrunk, enlarged, difference, band, planes[3], light;
    for (int i = begin; i < end; ++i) {
      const cv::Mat& crop = crops[static_cast<size_t>(i)];
      cv::resize(crop, shrunk, {small_side, small_side}, 0, 0, cv::INTER_AREA);
      cv::resize(shrunk, enlarged, {side, side}, 0, 0, cv::INTER_CUBIC);
      cv::subtract(crop, enlarged, difference, cv::noArray(), CV_16S);
      difference.convertTo(band, CV_8S);  // saturates at +-127 grey levels
      cv::split(band, planes);
      for (int c = 0; c < 3; ++c) {  // BGR -> RGB planes
        cv::Mat plane(padded, padded, CV_8SC1, bands + (static_cast<int64_t>(i) * 3 + c) * padded * padded);
        cv::copyMakeBorder(planes[2 - c], plane, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar(0));
      }
      shrunk.convertTo(light, CV_32F, 1.0 / 255.0);
      cv::cvtColor(light, light, cv::COLOR_BGR2GRAY);  // ITU-R BT.601 weights, as MatchingLuma
      cv::Mat luma(small_side, small_side, CV_32FC1, exemplar_flat_[i].data_ptr<float>());
      cv::GaussianBlur(light, luma, {}, blur_sigma_, blur_sigma_, cv::BORDER_REPLICATE);
      cv::Mat luma_padded(small_side + 2 * search_, small_side + 2 * search_, CV_32FC1, small_padded_[i].data_ptr<float>());
      cv::copyMakeBorder(luma, luma_padded, search_, search_, search_, search_, cv::BORDER_REPLICATE);
    }
  };
  std::exception_ptr failed;
  std::thread helper([&] {
    try {
      prepare(count / 2, count);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  try {
    prepare(0, count / 2);
  } catch (...) {
    helper.join();
    throw;
  }
  helper.join();
  if (failed) std::rethrow_exception(failed);
  if (count == 0) return;
  exemplar_mean_ = exemplar_flat_.mean(1);
  exemplar_energy_ = (exemplar_flat_ * exemplar_flat_).sum(1) -
                     static_cast<double>(exemplar_flat_.size(1)) * exemplar_mean_ * exemplar_mean_;
}

// Matching looks at the luma only (ITU-R BT.601 weights: a third of the work, and the
// structure of a face is in it), lightly blurred; faces N x 3 x small x small RGB.
torch::Tensor ExemplarDetail::MatchingLuma(const torch::Tensor& faces) const {
  const int64_t pixels = static_cast<int64_t>(small_side_) * small_side_;
  torch::Tensor out = torch::empty({faces.size(0), pixels});
  cv::Mat light(small_side_, small_side_, CV_32FC1);
  for (int64_t i = 0; i < faces.size(0); ++i) {
    const float* r = faces[i].data_ptr<float>();
    const float* g = r + pixels;
    const float* b = g + pixels;
    float* l = light.ptr<float>();
    for (int64_t p = 0; p < pixels; ++p) l[p] = 0.299f * r[p] + 0.587f * g[p] + 0.114f * b[p];
    cv::Mat luma(small_side_, small_side_, CV_32FC1, out[i].data_ptr<float>());
    cv::GaussianBlur(light, luma, {}, blur_sigma_, blur_sigma_, cv::BORDER_REPLICATE);
  }
  return out;
}

std::vector<cv::Mat> ExemplarDetail::Draw(const torch::Tensor& faces) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor input = faces.to(torch::kCPU, torch::kFloat32).contiguous();
  if (input.dim() != 4 || input.size(1) != 3 || input.size(-1) != small_side_ || input.size(-2) != small_side_) {
    throw UsageError("exemplar detail draws N x 3 x " + std::to_string(small_side_) + " px faces, got " +
                     std::to_string(input.size(-1)) + " px");
  }
  const int64_t count = input.size(0), pixels = static_cast<int64_t>(side_) * side_;
  const bool detailed = exemplars() > 0;
  torch::Tensor queries, nearest;
  Scratch scratch;
  if (detailed) {
    queries = MatchingLuma(input);
    nearest = NearestFaces(queries);
    scratch.candidates.resize(static_cast<size_t>(nearest.size(1)));
  }
  std::vector<cv::Mat> out(static_cast<size_t>(count));
  std::vector<float> detail(static_cast<size_t>(3 * pixels));
  cv::Mat enlarged[3];
  const float* inverse = inverse_window_sum_.data();
  for (int64_t i = 0; i < count; ++i) {
    // The bicubic enlargement, OpenCV's kernel (a = -0.75, edges replicated, as the bands
    // were made), one plane at a time.
    for (int c = 0; c < 3; ++c) {
      const cv::Mat small(small_side_, small_side_, CV_32FC1, input[i][c].data_ptr<float>());
      cv::resize(small, enlarged[c], {side_, side_}, 0, 0, cv::INTER_CUBIC);
    }
    if (detailed) {
      const int64_t* row = nearest[i].data_ptr<int64_t>();
      std::copy(row, row + scratch.candidates.size(), scratch.candidates.begin());
      MatchPatches(queries[i].data_ptr<float>(), scratch);
      std::fill(detail.begin(), detail.end(), 0.0f);
      AddDetail(scratch, detail.data());
    }
    // The enlargement plus the detail (each pixel's windows' weights divided out), as 8-bit
    // BGR.
    cv::Mat& face = out[static_cast<size_t>(i)];
    face.create(side_, side_, CV_8UC3);
    uint8_t* bgr = face.ptr<uint8_t>();
    const float* planes[3] = {enlarged[0].ptr<float>(), enlarged[1].ptr<float>(), enlarged[2].ptr<float>()};
    for (int64_t p = 0; p < pixels; ++p) {
      for (int c = 0; c < 3; ++c) {
        const float v = planes[c][p] + (detailed ? detail[static_cast<size_t>(c * pixels + p)] * inverse[p] : 0.0f);
        bgr[3 * p + 2 - c] = static_cast<uint8_t>(std::clamp(v, 0.0f, 1.0f) * 255.0f + 0.5f);
      }
    }
  }
  return out;
}

// The exemplars whose whole face, light removed, is nearest each query: the squared
// distance of the mean-removed faces, |q - e|^2 - P (mq - me)^2, less the terms of the
// query alone, is |e|^2 - P me^2 - 2 q.e + 2 P mq me: one matrix product for the batch.
torch::Tensor ExemplarDetail::NearestFaces(const torch::Tensor& queries) const {
  const torch::Tensor& q = queries;
  const double pixels = static_cast<double>(q.size(1));
  const torch::Tensor score = exemplar_energy_.unsqueeze(0) - 2.0 * q.matmul(exemplar_flat_.t()) +
                              (2.0 * pixels) * q.mean(1, true) * exemplar_mean_.unsqueeze(0);
  const int64_t count = std::min<int64_t>(kCandidates, exemplars());
  return std::get<1>(score.topk(count, 1, /*largest=*/false)).contiguous();
}

// For each patch (row-major over the patch grid), the kBlended exemplar patches nearest the
// query's within search_ pixels of its place: the variance of their difference (the
// squared difference with the patch's mean difference removed), added up over blocks of
// stride_ pixels, which the half-overlapping patches share.
void ExemplarDetail::MatchPatches(const float* query, Scratch& scratch) const {
  const std::vector<int64_t>& candidates = scratch.candidates;
  const int s = small_side_, r = search_, padded = s + 2 * r, block = stride_, blocks = s / block;
  const int grid = blocks - 1, shifts = (2 * r + 1) * (2 * r + 1), tries = shifts * static_cast<int>(candidates.size());
  const float inverse_area = 1.0f / static_cast<float>(patch_ * patch_);
  std::vector<float>& cost = scratch.cost;
  std::vector<float>& sum = scratch.sum;
  std::vector<float>& square = scratch.square;
  std::vector<float>& column = scratch.column;
  std::vector<float>& column_sq = scratch.column_sq;
  cost.resize(static_cast<size_t>(grid * grid * tries));
  sum.resize(static_cast<size_t>(blocks * blocks));
  square.resize(sum.size());
  column.resize(static_cast<size_t>(s));
  column_sq.resize(column.size());
  const float* exemplars = small_padded_.data_ptr<float>();
  for (size_t c = 0; c < candidates.size(); ++c) {
    const float* exemplar = exemplars + candidates[c] * padded * padded;
    for (int shift = 0; shift < shifts; ++shift) {
      const int dy = shift / (2 * r + 1), dx = shift % (2 * r + 1);  // from -r, as padded rows and columns
      for (int by = 0; by < blocks; ++by) {
        std::fill(column.begin(), column.end(), 0.0f);
        std::fill(column_sq.begin(), column_sq.end(), 0.0f);
        for (int y = by * block; y < (by + 1) * block; ++y) {
          const float* q = query + y * s;
          const float* e = exemplar + (y + dy) * padded + dx;
          for (int x = 0; x < s; ++x) {
            const float d = q[x] - e[x];
            column[static_cast<size_t>(x)] += d;
            column_sq[static_cast<size_t>(x)] += d * d;
          }
        }
        for (int bx = 0; bx < blocks; ++bx) {
          float a = 0, b = 0;
          for (int x = bx * block; x < (bx + 1) * block; ++x) a += column[static_cast<size_t>(x)], b += column_sq[static_cast<size_t>(x)];
          sum[static_cast<size_t>(by * blocks + bx)] = a;
          square[static_cast<size_t>(by * blocks + bx)] = b;
        }
      }
      const int attempt = shift * static_cast<int>(candidates.size()) + static_cast<int>(c);
      for (int py = 0; py < grid; ++py) {
        for (int px = 0; px < grid; ++px) {
          const auto at = [&](const std::vector<float>& v) {
            const size_t i = static_cast<size_t>(py * blocks + px);
            return v[i] + v[i + 1] + v[i + static_cast<size_t>(blocks)] + v[i + static_cast<size_t>(blocks) + 1];
          };
          const float mean = at(sum) * inverse_area;
          cost[static_cast<size_t>((py * grid + px) * tries + attempt)] = at(square) * inverse_area - mean * mean;
        }
      }
    }
  }
  NearestPatches(grid * grid, scratch);
}

// The kBlended cheapest tries of each patch, weighted by a softmax of their cost over the
// mean of those costs.
void ExemplarDetail::NearestPatches(int patches, Scratch& scratch) const {
  const std::vector<float>& cost = scratch.cost;
  const std::vector<int64_t>& candidates = scratch.candidates;
  const int tries = static_cast<int>(cost.size()) / patches, side_shifts = 2 * search_ + 1;
  const int blended = std::min<int>(kBlended, static_cast<int>(candidates.size()));
  std::vector<PatchMatch>& matches = scratch.matches;
  matches.clear();
  std::vector<int>& order = scratch.order;
  order.resize(static_cast<size_t>(tries));
  for (int p = 0; p < patches; ++p) {
    const float* c = cost.data() + static_cast<size_t>(p * tries);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + blended, order.end(), [c](int a, int b) { return c[a] < c[b]; });
    float mean = 0;
    for (int k = 0; k < blended; ++k) mean += c[order[static_cast<size_t>(k)]] / static_cast<float>(blended);
    float total = 0;
    const size_t first = matches.size();
    for (int k = 0; k < blended; ++k) {
      const int attempt = order[static_cast<size_t>(k)];
      const int shift = attempt / static_cast<int>(candidates.size());
      PatchMatch m;
      m.exemplar = candidates[static_cast<size_t>(attempt) % candidates.size()];
      m.dy = shift / side_shifts - search_;
      m.dx = shift % side_shifts - search_;
      // Relative to the nearest (the softmax's largest term), for range.
      m.weight = std::exp(-(c[attempt] - c[order[0]]) / (mean + 1e-6f));
      total += m.weight;
      matches.push_back(m);
    }
    for (size_t k = first; k < matches.size(); ++k) matches[k].weight /= total;
  }
}

// The matched exemplars' bands, weighted, windowed and added up patch by patch into
// `detail` (3 x side x side): plain loops over raw memory.
void ExemplarDetail::AddDetail(Scratch& scratch, float* detail) const {
  const std::vector<PatchMatch>& matches = scratch.matches;
  const int64_t big = static_cast<int64_t>(patch_) * scale_, pad = static_cast<int64_t>(search_) * scale_;
  const int64_t padded_side = side_ + 2 * pad, plane = padded_side * padded_side;
  const int64_t grid = small_side_ / stride_ - 1;
  const size_t blended = matches.size() / static_cast<size_t>(grid * grid);
  const int8_t* bands = band_.data_ptr<int8_t>();
  const float* window = window_.data_ptr<float>();
  std::vector<const int8_t*>& source = scratch.source;
  std::vector<float>& weight = scratch.weight;
  source.resize(blended);
  weight.resize(blended);
  for (int64_t py = 0; py < grid; ++py) {
    for (int64_t px = 0; px < grid; ++px) {
      const int64_t y0 = py * stride_ * scale_, x0 = px * stride_ * scale_;
      for (size_t j = 0; j < blended; ++j) {
        const PatchMatch& m = matches[static_cast<size_t>(py * grid + px) * blended + j];
        source[j] = bands + m.exemplar * 3 * plane + (pad + y0 + m.dy * scale_) * padded_side + pad + x0 + m.dx * scale_;
        weight[j] = m.weight * kBandStep;
      }
      for (int64_t c = 0; c < 3; ++c) {
        for (int64_t y = 0; y < big; ++y) {
          float* row = detail + (c * side_ + y0 + y) * side_ + x0;
          const float* w = window + y * big;
          const int64_t offset = c * plane + y * padded_side;
          for (size_t j = 0; j < blended; ++j) {
            const int8_t* from = source[j] + offset;
            const float k = weight[j];
            for (int64_t x = 0; x < big; ++x) row[x] += w[x] * k * static_cast<float>(from[x]);
          }
        }
      }
    }
  }
}

}  // namespace faceswap::model
