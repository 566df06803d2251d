#include "faceswap/blend/face_memory.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include <algorithm>
#include <cmath>

namespace faceswap::blend {
namespace {

// A track unseen for longer is forgotten (the tracker keeps a lost face as long).
constexpr double kForgetSeconds = 1.0;
// The crops are compared blurred per channel over 3 px at 64 (as the model's redraw is):
// the face's fine texture moves with the landmarks' jitter, a covering shape's colour does
// not.
constexpr double kBlurAt64 = 3;
// The difference is measured in medians of itself over the visible face, floored at 3 grey
// levels: a still face under steady light differs from its memory by about one, and without
// the floor any small change would stand out.
constexpr double kFloorGreyLevels = 3;
constexpr double kVisibleBelow = 3, kCoveredAbove = 6;  // medians: a ramp between
// A cover the model found must be this share of the crop to grow: the model's small
// doubtful specks on faces that nothing covers (a lid, a nostril) would grow over a blink.
constexpr double kSeedShare = 0.015;
// Where the model only doubts (its mask under kDoubtfulBelow) and the picture changed as
// much as a cover does, a part this share of the crop starts a cover too. After the
// detector found the face again, two of seven 300-step fixtures of the occlusion test
// called the moving patch 0.55-0.9 for two to a dozen frames: nothing started a cover, the
// patch was drawn over and the picture learnt its edge as face (24.4 and 27.6 dB, the
// others 33-35).
constexpr double kDoubtfulBelow = 0.9, kDoubtfulSeedShare = 0.03;
// The picture takes in this share of each new crop where the face is visible; only this
// much where the model calls it visible and the memory does not, so that a change the
// memory took for a cover (new light, a turn of the head, a hand that rests) is learnt
// within a second or two rather than cutting the face for ever.
constexpr double kLearnVisible = 0.3, kLearnDoubted = 0.02;
// A registration that moves the picture further than this (a share of the crop) or turns
// it more than this (radians) is taken for a failure: the crops are aligned to begin with.
constexpr double kMaxShiftShare = 0.1, kMaxTurn = 0.15;
// A registration that fails from where the crop put the face is tried once more, smoother
// and longer: after the detector finds a face again the crop can jump by 5 px and 5 degrees
// at 64, which the first try (20 steps, no smoothing) does not always follow.
constexpr int kFirstSteps = 20, kRetrySteps = 50, kRetrySmoothing = 5;
// Next to a cover, a change of this many scales joins it, up to this far (pixels at 64):
// what lies alongside a cover often differs from the face less than the cover itself (a
// hand's fingers beside its sleeve, skin over skin).
constexpr double kFaintChange = 2, kFaintReachAt64 = 2;
// The picture learns only slowly (kLearnDoubted) this close to a cover (pixels at 64): what
// passes for face beside a moving cover is often its next part, and once learnt it read as
// unchanged (the test's patch with its 300-step fixture: 26.0 -> 27.4 dB by this alone).
constexpr double kSlowNearCoverAt64 = 3;

}  // namespace

// Chosen on the moving patch of tests/pipeline/occlusion_slow_test.cpp and on every frame of
// the two shared clips converted by a 20-minute `lite` model (README, "Things in front of the
// face").
void FaceMemory::Apply(int track, double seconds, const cv::Mat& crop, const cv::Mat& region, cv::Mat& visible) {
  Forget(seconds);
  const int side = crop.cols;
  const int box = std::max(1, static_cast<int>(side * kBlurAt64 / 64)) | 1;
  crop.convertTo(blurred_, CV_32FC3);
  cv::blur(blurred_, blurred_, {box, box}, {-1, -1}, cv::BORDER_REPLICATE);
  Track& t = tracks_[track];
  const bool fresh = t.picture.size() != crop.size() || seconds - t.seconds > kForgetSeconds;
  t.seconds = seconds;
  if (fresh) {
    blurred_.copyTo(t.picture);
    return;
  }
  double scale = MeasureChange(t.picture, visible, region);
  if (scale <= 0) return;  // mostly covered
  if (RegisterPicture(t.picture, visible, region, scale)) {
    scale = MeasureChange(t.picture, visible, region);
    if (scale <= 0) return;
  }

  // 1 below kVisibleBelow scales, 0 above kCoveredAbove, a ramp between; then only where
  // the change joins a cover the model found.
  change_.convertTo(memory_visible_, CV_32F, -1.0 / (scale * (kCoveredAbove - kVisibleBelow)),
                    kCoveredAbove / (kCoveredAbove - kVisibleBelow));
  cv::min(cv::max(memory_visible_, 0.0), 1.0, memory_visible_);
  cv::compare(memory_visible_, 0.5, changed_, cv::CMP_LT);
  visible.copyTo(model_visible_);
  KeepGrownFromCovers(changed_, model_visible_, region);
  ReachFaintChange(scale);
  cv::bitwise_not(changed_, unchanged_);
  memory_visible_.setTo(1.0f, unchanged_);
  cv::min(visible, memory_visible_, visible);

  cv::compare(visible, 0.9, fast_, cv::CMP_GT);
  cv::compare(visible, 0.5, near_cover_, cv::CMP_LT);
  near_cover_ &= region;
  const int near = static_cast<int>(std::lround(kSlowNearCoverAt64 * side / 64));
  if (near_kernel_.rows != 2 * near + 1) {
    near_kernel_ = cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * near + 1, 2 * near + 1});
  }
  cv::dilate(near_cover_, near_cover_, near_kernel_);
  fast_.setTo(0, near_cover_);
  cv::compare(model_visible_, 0.9, slow_, cv::CMP_GT);
  cv::bitwise_not(fast_, unchanged_);
  slow_ &= unchanged_;
  cv::accumulateWeighted(blurred_, t.picture, kLearnVisible, fast_);
  cv::accumulateWeighted(blurred_, t.picture, kLearnDoubted, slow_);
}

// change_: the blurred crop's difference from `picture`, averaged over the channels and
// blurred again; returns its median over the visible face (floored), or 0 when the face
// is mostly covered.
double FaceMemory::MeasureChange(const cv::Mat& picture, const cv::Mat& visible, const cv::Mat& region) {
  const int side = picture.cols;
  const int box = std::max(1, static_cast<int>(side * kBlurAt64 / 64)) | 1;
  cv::absdiff(blurred_, picture, difference_);
  cv::transform(difference_, change_, cv::Matx13f(1.f / 3, 1.f / 3, 1.f / 3));
  cv::blur(change_, change_, {box, box}, {-1, -1}, cv::BORDER_REPLICATE);
  values_.clear();
  int face_pixels = 0;
  for (int y = 0; y < side; ++y) {
    const float* c = change_.ptr<float>(y);
    const float* v = visible.ptr<float>(y);
    const uchar* r = region.ptr<uchar>(y);
    for (int x = 0; x < side; ++x) {
      if (!r[x]) continue;
      ++face_pixels;
      if (v[x] > 0.5f) values_.push_back(c[x]);
    }
  }
  if (values_.size() * 4 < static_cast<size_t>(face_pixels) || values_.empty()) return 0;
  const auto middle = values_.begin() + static_cast<std::ptrdiff_t>(values_.size() / 2);
  std::nth_element(values_.begin(), middle, values_.end());
  return std::max<double>(*middle, kFloorGreyLevels);
}

// The aligned crop follows the landmarks, which jitter, and jump when something covers half
// the face (the fit leans on what it can see): the picture is moved onto the new crop
// before they are compared, by the rigid motion that best maps it onto the crop (OpenCV's
// ECC on the blurred grey images) over the face that the model sees and that changed less
// than kVisibleBelow scales, so that the cover does not pull the fit. Without it, in the
// moving-patch clip the face's own eyes and hair read as changed while the patch crossed
// it (the median change rose from 3 to 5-12 grey levels) and the thresholds, which follow
// that median, let the hand beside the patch pass as face.
bool FaceMemory::RegisterPicture(cv::Mat& picture, const cv::Mat& visible, const cv::Mat& region, double scale) {
  cv::cvtColor(picture, picture_grey_, cv::COLOR_BGR2GRAY);
  cv::cvtColor(blurred_, crop_grey_, cv::COLOR_BGR2GRAY);
  cv::compare(visible, 0.5, register_mask_, cv::CMP_GT);
  register_mask_ &= region;
  cv::compare(change_, kVisibleBelow * scale, unchanged_, cv::CMP_LT);
  register_mask_ &= unchanged_;
  if (cv::countNonZero(register_mask_) * 4 < cv::countNonZero(region)) return false;
  const double side = picture.cols;
  cv::Mat warp;
  auto moved_within_reason = [&](int steps, int smoothing) {
    warp = cv::Mat::eye(2, 3, CV_32F);
    try {
      cv::findTransformECC(picture_grey_, crop_grey_, warp, cv::MOTION_EUCLIDEAN,
                           cv::TermCriteria(cv::TermCriteria::COUNT + cv::TermCriteria::EPS, steps, 1e-4),
                           register_mask_, smoothing);
    } catch (const cv::Exception&) {
      return false;  // no convergence
    }
    const double shift = std::hypot(warp.at<float>(0, 2), warp.at<float>(1, 2));
    return shift < kMaxShiftShare * side && std::abs(warp.at<float>(1, 0)) < kMaxTurn;
  };
  if (!moved_within_reason(kFirstSteps, 1) && !moved_within_reason(kRetrySteps, kRetrySmoothing)) {
    return false;  // compare as aligned
  }
  cv::warpAffine(picture, registered_, warp, picture.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  std::swap(picture, registered_);
  return true;
}

void FaceMemory::Forget(double seconds) {
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    it = seconds - it->second.seconds > kForgetSeconds || seconds < it->second.seconds ? tracks_.erase(it)
                                                                                       : std::next(it);
  }
}

void FaceMemory::KeepGrownFromCovers(cv::Mat& changed, const cv::Mat& model_visible, const cv::Mat& region) {
  const int side = changed.cols;
  cv::compare(model_visible, 0.5, seeds_, cv::CMP_LT);
  seeds_ &= region;
  DropSmallParts(seeds_, static_cast<int>(kSeedShare * side * side));
  cv::compare(model_visible, kDoubtfulBelow, doubtful_, cv::CMP_LT);
  doubtful_ &= changed;
  doubtful_ &= region;
  DropSmallParts(doubtful_, static_cast<int>(kDoubtfulSeedShare * side * side));
  seeds_ |= doubtful_;
  // The changed pixels connected to a seed, through changed pixels or the seed itself.
  cv::bitwise_or(seeds_, changed, joined_);
  const int count = cv::connectedComponents(joined_, labels_, 8, CV_32S);
  keep_.assign(static_cast<size_t>(count), 0);
  for (int y = 0; y < side; ++y) {
    const int* l = labels_.ptr<int>(y);
    const uchar* s = seeds_.ptr<uchar>(y);
    for (int x = 0; x < side; ++x) {
      if (s[x]) keep_[static_cast<size_t>(l[x])] = 1;
    }
  }
  for (int y = 0; y < side; ++y) {
    const int* l = labels_.ptr<int>(y);
    uchar* c = changed.ptr<uchar>(y);
    for (int x = 0; x < side; ++x) {
      if (!keep_[static_cast<size_t>(l[x])]) c[x] = 0;
    }
  }
}

void FaceMemory::DropSmallParts(cv::Mat& mask, int min_area) {
  const int count = cv::connectedComponentsWithStats(mask, labels_, stats_, centroids_, 8, CV_32S);
  keep_.assign(static_cast<size_t>(count), 0);
  for (int i = 1; i < count; ++i) keep_[static_cast<size_t>(i)] = stats_.at<int>(i, cv::CC_STAT_AREA) >= min_area;
  for (int y = 0; y < mask.rows; ++y) {
    const int* l = labels_.ptr<int>(y);
    uchar* m = mask.ptr<uchar>(y);
    for (int x = 0; x < mask.cols; ++x) m[x] = keep_[static_cast<size_t>(l[x])] ? 255 : 0;
  }
}

// Grows changed_ (the covers, after KeepGrownFromCovers) through pixels whose change_
// passes kFaintChange scales, kFaintReachAt64 steps of one pixel at most, and marks what it
// added as covered in memory_visible_. On the moving patch's clip the hand's fingers beside
// its sleeve changed the cheek by 2-4 scales: passed as face, they were drawn over.
void FaceMemory::ReachFaintChange(double scale) {
  const int side = changed_.cols;
  cv::compare(change_, kFaintChange * scale, faint_, cv::CMP_GT);
  changed_.copyTo(reached_);
  const int steps = std::max(1, static_cast<int>(std::lround(kFaintReachAt64 * side / 64)));
  for (int i = 0; i < steps; ++i) {
    cv::dilate(reached_, grown_, cv::Mat());  // OpenCV's default: one step of a 3x3 square
    grown_ &= faint_;
    reached_ |= grown_;
  }
  cv::bitwise_not(changed_, grown_);
  grown_ &= reached_;
  memory_visible_.setTo(0.0f, grown_);
  std::swap(changed_, reached_);
}

}  // namespace faceswap::blend
