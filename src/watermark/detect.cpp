// Detector: whiten the luma, fold the frame's tiles onto one for each candidate tile size,
// find the pilots by correlation, then read and decode the payload at the best few
// candidates (fold.h has the signal processing); failing that, the same on the mirror
// image.
//
// Two working resolutions keep the search cheap: the search runs on the picture scaled so
// that its shorter side is 256 pixels (4 pixels per chip at the embedder's own tile size)
// and only on its central square; the best candidates are refined and decoded on the whole
// picture at 512 pixels (8 pixels per chip).

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "faceswap/core/error.h"
#include "faceswap/watermark/watermark.h"
#include "fold.h"
#include "pattern.h"

namespace faceswap::watermark {
namespace {

constexpr int kSearchBins = 64;   // tile bins in the search (2 per chip)
constexpr int kDecodeBins = 128;  // 4 per chip
// Working sizes: 4 and 8 pixels per chip at the embedder's own tile size. (At 2 and 4,
// the 10% crop of person_a read 142 instead of 147 of 180 frames.)
constexpr int kSearchSide = 256;
constexpr int kDecodeSide = 2 * kSearchSide;
constexpr double kSearchChip = kSearchSide / detail::kTilesPerShortSide / detail::kChips;  // pixels
constexpr double kDecodeChip = 2 * kSearchChip;
// The search steps the tile size by 1% from 1 (the size of an uncropped frame, resized or
// not): over the central square's 128 chips a 1% error moves the outer tiles by at most
// 0.3 chip from the middle ones. The decode folds the whole picture (up to ~230 chips
// long), so it refines in thirds of a step, then at the vertex of the parabola through the
// best three scores. (Without the vertex, half-size frames were decoded 0.3-0.4% off and
// lost a tenth of their frames.)
constexpr double kSearchStep = 0.01;
constexpr double kRefineStep = kSearchStep / 3;
constexpr int kRefineSteps = 3;
constexpr int kCandidates = 3;  // search peaks refined and decoded per decision
// Messages of the list decoder checked per candidate. Each try passes the 32 check bits
// by chance with probability 2^-32, so a frame (3 candidates) is falsely marked with
// probability below 6e-9.
constexpr int kListSize = 8;
// Search peaks below this are not decoded: the highest of a correlation of pure noise lies
// near 4, and marks that decode give 6 and more.
constexpr double kMinSearchScore = 4.5;
constexpr int kMinShortSide = 64;  // smaller pictures are not searched

// The luma of one picture (or the sum of several) at the two working resolutions, whitened.
struct Working {
  cv::Mat search;  // CV_32F, kSearchSide x kSearchSide (the central square)
  cv::Mat decode;  // CV_32F, shorter side kDecodeSide
};

Detection Nothing(int frames) {
  Detection d;
  d.frames = frames;
  return d;
}

}  // namespace

void DetectOptions::Check() const {
  if (!(min_relative_tile >= 0.25 && min_relative_tile < max_relative_tile && max_relative_tile <= 4)) {
    throw UsageError("watermark detection: relative tile range must satisfy 0.25 <= min < max <= 4");
  }
}

struct Detector::Impl {
  DetectOptions options;
  detail::PilotCorrelator search_pilots{kSearchBins}, decode_pilots{kDecodeBins};
  detail::Whitener whitener;
  detail::Folder folder;
  cv::Mat gray, luma, small, half, tile, spectrum, best_spectrum;  // buffers
  Working frame;            // the last frame's
  Working sum;              // the vote: the frames added so far
  Working mirror;           // a picture's mirror image (buffers)
  cv::Size frame_size;
  int added = 0;

  // Luma first, then an integer area reduction (OpenCV's fast path; a non-integer one
  // costs 13 ms on a 1080p frame) and a bilinear step to the exact working size.
  void Prepare(const cv::Mat& bgr) {
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    const int factor = std::max(1, std::min(bgr.cols, bgr.rows) / kDecodeSide);
    if (factor > 1) cv::resize(gray, gray, cv::Size(), 1.0 / factor, 1.0 / factor, cv::INTER_AREA);
    gray.convertTo(luma, CV_32F);
    const double f = static_cast<double>(kDecodeSide) / std::min(luma.cols, luma.rows);
    cv::resize(luma, small, cv::Size(), f, f, cv::INTER_LINEAR);
    whitener.Run(small, kDecodeChip, frame.decode);
    cv::resize(small, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    const int side = std::min(half.cols, half.rows);
    const cv::Rect square((half.cols - side) / 2, (half.rows - side) / 2, side, side);
    whitener.Run(half(square), kSearchChip, frame.search);
  }

  // The best candidates of the search: local maxima over tile size, strongest first.
  std::vector<detail::Sync> Search(const cv::Mat& picture) {
    std::vector<detail::Sync> all;
    const double tile_pixels = kSearchSide / detail::kTilesPerShortSide;
    const int first = static_cast<int>(std::ceil(std::log(options.min_relative_tile) / kSearchStep - 1e-9));
    const int last = static_cast<int>(std::floor(std::log(options.max_relative_tile) / kSearchStep + 1e-9));
    for (int k = first; k <= last; ++k) {
      const double r = std::exp(k * kSearchStep);
      folder.Run(picture, tile_pixels * r, kSearchBins, tile);
      all.push_back(search_pilots.Run(tile, r));
    }
    std::vector<detail::Sync> peaks;
    for (size_t i = 0; i < all.size(); ++i) {
      const bool left = i == 0 || all[i].score >= all[i - 1].score;
      const bool right = i + 1 == all.size() || all[i].score > all[i + 1].score;
      if (left && right && all[i].score >= kMinSearchScore) peaks.push_back(all[i]);
    }
    std::sort(peaks.begin(), peaks.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
    if (peaks.size() > static_cast<size_t>(kCandidates)) peaks.resize(kCandidates);
    return peaks;
  }

  // The mark read from `w`, or else from its mirror image. A mirrored copy carries the
  // mirrored tile; whitening and folding commute with the flip (up to the tile's position,
  // which the correlation finds), so flipping the working pictures reads it as the
  // original. The flip costs a second search only where the first found nothing, and
  // doubles the tries that could pass the checks by chance (still below 2e-8 a frame).
  Detection Decide(const Working& w, int frames) {
    Detection d = DecideAsIs(w, frames);
    if (d.found || w.search.empty()) return d;
    cv::flip(w.search, mirror.search, 1);
    cv::flip(w.decode, mirror.decode, 1);
    Detection m = DecideAsIs(mirror, frames);
    if (m.found) {
      m.mirrored = true;
      return m;
    }
    d.confidence = std::max(d.confidence, m.confidence);
    return d;
  }

  Detection DecideAsIs(const Working& w, int frames) {
    Detection best = Nothing(frames);
    if (w.search.empty()) return best;
    const double tile_pixels = kDecodeSide / detail::kTilesPerShortSide;
    for (const detail::Sync& candidate : Search(w.search)) {
      detail::Sync refined;
      auto try_size = [&](double r) {
        folder.Run(w.decode, tile_pixels * r, kDecodeBins, tile);
        const detail::Sync s = decode_pilots.Run(tile, r, &spectrum);
        if (s.score > refined.score) {
          refined = s;
          std::swap(spectrum, best_spectrum);
        }
        return s.score;
      };
      // A noisy search may peak a step beside the true size: refine over +-1 step.
      std::array<double, 2 * kRefineSteps + 1> scores;
      for (int k = -kRefineSteps; k <= kRefineSteps; ++k) {
        scores[k + kRefineSteps] = try_size(candidate.relative_tile * std::exp(k * kRefineStep));
      }
      const int at = static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
      if (at > 0 && at < 2 * kRefineSteps) {
        const double curvature = scores[at - 1] - 2 * scores[at] + scores[at + 1];
        if (curvature < 0) {
          const double vertex = 0.5 * (scores[at - 1] - scores[at + 1]) / curvature;
          try_size(candidate.relative_tile * std::exp((at - kRefineSteps + vertex) * kRefineStep));
        }
      }
      const std::vector<float> soft = detail::CodedEvidence(best_spectrum, refined.shift);
      const auto messages = detail::ListViterbiDecode(soft, kPayloadBits, kListSize);
      std::optional<Payload> payload;
      size_t chosen = 0;
      for (; chosen < messages.size() && !payload; ++chosen) payload = UnpackPayload(messages[chosen]);
      const std::vector<uint8_t> code = detail::ConvEncode(messages[payload ? chosen - 1 : 0]);
      int agree = 0;
      for (int i = 0; i < detail::kCodedBits; ++i) agree += (soft[i] > 0) == (code[i] == 1);
      const double confidence = static_cast<double>(agree) / detail::kCodedBits;
      if (payload || confidence > best.confidence) {
        best.found = payload.has_value();
        if (payload) best.payload = *payload;
        best.confidence = confidence;
        best.sync_score = refined.score;
        best.relative_tile = refined.relative_tile;
      }
      if (best.found) break;
    }
    return best;
  }
};

Detector::Detector(const DetectOptions& options) : impl_(std::make_unique<Impl>()) {
  options.Check();
  impl_->options = options;
}

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

Detection Detector::Detect(const cv::Mat& bgr) {
  if (bgr.type() != CV_8UC3) throw std::invalid_argument("watermark::Detect needs an 8-bit BGR frame");
  if (std::min(bgr.cols, bgr.rows) < kMinShortSide) return Nothing(1);
  impl_->Prepare(bgr);
  return impl_->Decide(impl_->frame, 1);
}

Detection Detector::Add(const cv::Mat& bgr) {
  if (bgr.type() != CV_8UC3) throw std::invalid_argument("watermark::Detector::Add needs an 8-bit BGR frame");
  if (impl_->added > 0 && bgr.size() != impl_->frame_size) {
    throw std::invalid_argument("watermark::Detector::Add: frames of one vote must have one size");
  }
  impl_->frame_size = bgr.size();
  ++impl_->added;
  if (std::min(bgr.cols, bgr.rows) < kMinShortSide) return Nothing(1);
  impl_->Prepare(bgr);
  Working& sum = impl_->sum;
  if (sum.search.empty()) {
    impl_->frame.search.copyTo(sum.search);
    impl_->frame.decode.copyTo(sum.decode);
  } else {
    sum.search += impl_->frame.search;
    sum.decode += impl_->frame.decode;
  }
  return impl_->Decide(impl_->frame, 1);
}

Detection Detector::Vote() const { return impl_->Decide(impl_->sum, impl_->added); }

int Detector::frames() const { return impl_->added; }

Detection Detect(const cv::Mat& bgr, const DetectOptions& options) { return Detector(options).Detect(bgr); }

}  // namespace faceswap::watermark
