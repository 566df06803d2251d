#include "faceswap/face/tracker.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "faceswap/core/error.h"
#include "faceswap/face/align.h"
#include "faceswap/face/identity.h"

namespace faceswap::face {

void TrackerOptions::Check() const {
  if (redetect_every < 1) throw UsageError("redetect interval must be >= 1 frame, got " + std::to_string(redetect_every));
  if (!(min_appearance >= -1.0 && min_appearance <= 1.0)) throw UsageError("min_appearance must be in [-1, 1]");
  if (!(max_refit_shift > 0.0)) throw UsageError("max_refit_shift must be > 0");
  if (!(refit_tolerance >= 0.0 && refit_tolerance < 0.5)) throw UsageError("refit_tolerance must be in [0, 0.5)");
  if (max_missed_detections < 0) throw UsageError("max_missed_detections must be >= 0");
  if (!(default_fps > 0.0)) throw UsageError("default_fps must be > 0");
  if (!(smoothing.min_cutoff > 0.0) || smoothing.beta < 0.0 || !(smoothing.d_cutoff > 0.0)) {
    throw UsageError("smoothing: min_cutoff and d_cutoff must be > 0, beta >= 0");
  }
  if (selection == FaceSelection::kReference && !reference_image) {
    throw UsageError("face selection ref: needs a reference image (ref:IMAGE)");
  }
}

void ParseFaceSelection(const std::string& text, TrackerOptions& options) {
  if (text == "all") {
    options.selection = FaceSelection::kAll;
  } else if (text == "largest") {
    options.selection = FaceSelection::kLargest;
  } else if (text.rfind("ref:", 0) == 0 && text.size() > 4) {
    options.selection = FaceSelection::kReference;
    options.reference_image = text.substr(4);
  } else {
    throw UsageError("face selection must be all, largest or ref:IMAGE, got '" + text + "'");
  }
}

namespace {

constexpr int kPatchSize = 40;         // appearance patch side (pixels)
constexpr double kReferenceBlend = 0.1;  // per-frame update of a track's reference patch
// How hard a redetection looks (face::DetectEffort). The plain HOG pass always runs. When
// it finds nothing, the slower passes run only where they can find what is missing:
//  * searching (no face is tracked, or a track was lost this frame): the upsampled HOG pass
//    (small faces, ~4x the plain cost) at most every kSmallEvery frames and the CNN (turned
//    faces, ~0.85 s a frame here; kAuto) at most every kCnnEvery; each such pass that finds
//    nothing doubles its wait, up to kSmallEveryMax / kCnnEveryMax frames (a long stretch
//    without faces costs little), and a face found or a track lost resets both;
//  * a periodic redetection while faces are followed: the upsampled pass only when a
//    tracked face is too small for the plain pass to find again, never the CNN (measured on
//    person_b.mp4: the CNN re-finding a face the tracker already followed cost 12% of
//    convert's CPU time).
constexpr int64_t kSmallEvery = 10;
constexpr int64_t kSmallEveryMax = 30;
constexpr int64_t kCnnEvery = 10;
constexpr int64_t kCnnEveryMax = 160;

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

// Centroid and RMS radius of the landmarks: a pose-robust frame to express the detector
// box in, so the box can be predicted from landmarks alone.
void LandmarkFrame(const Landmarks& p, cv::Point2f& centre, float& radius) {
  cv::Point2f c(0.f, 0.f);
  for (const auto& q : p) c += q;
  c *= 1.0f / 68.0f;
  double ss = 0.0;
  for (const auto& q : p) ss += (q - c).dot(q - c);
  centre = c;
  radius = static_cast<float>(std::sqrt(ss / 68.0));
}

}  // namespace

struct Tracker::Impl {
  TrackerOptions options;
  Detector detector;
  Stats stats;
  int next_id = 0;
  int64_t frames_since_detection = 0;
  double last_seconds = std::numeric_limits<double>::quiet_NaN();

  struct Track {
    int id = -1;
    Landmarks raw{};          // last unsmoothed fit
    Landmarks smoothed{};
    cv::Rect2f box;
    // Detector box in the landmark frame: (dx, dy, w, h) / radius.
    cv::Vec4f box_relation;
    cv::Mat reference_patch;  // CV_32F
    std::array<OneEuroFilter2D, 68> filters;
    int missed_detections = 0;
    float quality = 1.f;
    bool alive = true;
  };
  std::vector<Track> tracks;

  // Scratch buffers reused per frame.
  AlignOptions patch_align{kPatchSize, 1.2};
  AlignedFace aligned;
  cv::Mat gray_patch;
  cv::Mat patch32;
  cv::Mat ncc;

  // kReference only: the network and the reference face's descriptor.
  std::optional<IdentityEncoder> encoder;
  Descriptor reference{};
  // Frames until the CNN / the upsampled pass may run again while searching, and the
  // current waits.
  int64_t cnn_wait = 0;
  int64_t cnn_every = kCnnEvery;
  int64_t small_wait = 0;
  int64_t small_every = kSmallEvery;

  Impl(const TrackerOptions& o, const DetectorOptions& d) : options(o), detector(d) {}

  void Patch(const cv::Mat& frame, const Landmarks& points, cv::Mat& out) {
    Align(frame, points, patch_align, aligned);
    if (aligned.crop.channels() == 3) {
      cv::cvtColor(aligned.crop, gray_patch, cv::COLOR_BGR2GRAY);
    } else if (aligned.crop.channels() == 4) {
      cv::cvtColor(aligned.crop, gray_patch, cv::COLOR_BGRA2GRAY);
    } else {
      aligned.crop.copyTo(gray_patch);
    }
    gray_patch.convertTo(out, CV_32F);
  }

  double Appearance(const cv::Mat& patch, const cv::Mat& reference) {
    cv::matchTemplate(patch, reference, ncc, cv::TM_CCOEFF_NORMED);
    return ncc.at<float>(0, 0);
  }

  cv::Rect2f PredictBox(const Landmarks& points, const cv::Vec4f& relation) const {
    cv::Point2f c;
    float r;
    LandmarkFrame(points, c, r);
    const float w = relation[2] * r, h = relation[3] * r;
    return {c.x + relation[0] * r - w / 2, c.y + relation[1] * r - h / 2, w, h};
  }

  static cv::Vec4f Relation(const Landmarks& points, const cv::Rect2f& box) {
    cv::Point2f c;
    float r;
    LandmarkFrame(points, c, r);
    r = std::max(r, 1e-3f);
    return {(box.x + box.width / 2 - c.x) / r, (box.y + box.height / 2 - c.y) / r, box.width / r, box.height / r};
  }

  // Start or re-anchor `track` on a detector box.
  void Anchor(Track& track, const cv::Mat& frame, const cv::Rect2f& box) {
    const Face fitted = detector.FitLandmarks(frame, box);
    track.raw = fitted.points;
    track.box = box;
    track.box_relation = Relation(track.raw, box);
    Patch(frame, track.raw, track.reference_patch);
    track.missed_detections = 0;
    track.quality = 1.f;
  }

  // Refit a track from its predicted box; false when the fit degraded.
  bool Follow(Track& track, const cv::Mat& frame) {
    ++stats.refits;
    const cv::Rect2f predicted = PredictBox(track.raw, track.box_relation);
    const Face first = detector.FitLandmarks(frame, predicted);
    const cv::Rect2f refined = PredictBox(first.points, track.box_relation);
    const float moved = std::max({std::abs(refined.x - predicted.x), std::abs(refined.y - predicted.y),
                                  std::abs(refined.width - predicted.width)});
    const bool settled = moved <= options.refit_tolerance * predicted.width;
    if (settled) ++stats.refits_skipped;
    const Face second = settled ? first : detector.FitLandmarks(frame, refined);
    const double iod = std::max(InterOcularDistance(second.points), 1.0);
    double shift = 0.0;
    for (int i = 0; i < 68; ++i) shift += cv::norm(second.points[i] - first.points[i]);
    shift /= 68.0 * iod;
    Patch(frame, second.points, patch32);
    const double appearance = Appearance(patch32, track.reference_patch);
    track.quality = static_cast<float>(std::clamp(appearance, 0.0, 1.0));
    if (appearance < options.min_appearance || shift > options.max_refit_shift) {
      spdlog::debug("track {} lost: appearance {:.2f}, refit shift {:.3f}", track.id, appearance, shift);
      return false;
    }
    track.raw = second.points;
    track.box = refined;
    cv::addWeighted(track.reference_patch, 1.0 - kReferenceBlend, patch32, kReferenceBlend, 0.0, track.reference_patch);
    return true;
  }

  double IdentityDistance(const cv::Mat& frame, const Landmarks& points) {
    return Distance(encoder->Encode(frame, points), reference);
  }

  void LoadReference() {
    const auto& path = *options.reference_image;
    cv::Mat image = cv::imread(path.string(), cv::IMREAD_COLOR);
    if (image.empty()) throw InputError(path, "reference face image cannot be read");
    encoder.emplace();
    const std::vector<Face> faces = detector.Detect(image);
    if (faces.empty()) throw InputError(path, "no face found in the reference image");
    if (faces.size() > 1) spdlog::warn("{}: {} faces in the reference image; using the largest", path.string(), faces.size());
    reference = encoder->Encode(image, faces.front().points);
  }

  // The detector's boxes, with the effort the rules above allow.
  std::vector<Face> DetectBoxes(const cv::Mat& frame) {
    const bool searching = std::none_of(tracks.begin(), tracks.end(), [](const Track& t) { return t.alive; }) ||
                           std::any_of(tracks.begin(), tracks.end(), [](const Track& t) { return !t.alive; });
    DetectEffort effort = DetectEffort::kPlain;
    if (searching) {
      if (detector.has_cnn() && cnn_wait <= 0) {
        effort = DetectEffort::kAll;
      } else if (small_wait <= 0) {
        effort = DetectEffort::kSmallFaces;
      }
    } else {
      const float smallest = 1.2f * detector.SmallestPlainFace(frame.size());
      if (std::any_of(tracks.begin(), tracks.end(), [&](const Track& t) { return t.box.width < smallest; })) {
        effort = DetectEffort::kSmallFaces;
      }
    }
    const int64_t runs_before = detector.cnn_runs();
    std::vector<Face> boxes = detector.DetectBoxes(frame, effort);
    if (detector.cnn_runs() > runs_before) {
      ++stats.cnn_runs;
      spdlog::debug("frame {}: HOG found no face, the CNN {}", stats.frames - 1,
                    boxes.empty() ? "none either" : std::to_string(boxes.size()));
    }
    if (searching) {
      if (!boxes.empty()) {
        small_every = kSmallEvery;
        cnn_every = kCnnEvery;
      } else {
        if (effort != DetectEffort::kPlain) {
          small_every = std::min(small_every * 2, kSmallEveryMax);
          small_wait = small_every;
        }
        if (effort == DetectEffort::kAll) {
          cnn_every = std::min(cnn_every * 2, kCnnEveryMax);
          cnn_wait = cnn_every;
        }
      }
    }
    return boxes;
  }

  std::vector<Face> Update(const cv::Mat& frame, double seconds) {
    ++stats.frames;
    double dt = 1.0 / options.default_fps;
    if (std::isnan(seconds)) {
      seconds = std::isnan(last_seconds) ? 0.0 : last_seconds + dt;
    } else if (!std::isnan(last_seconds) && seconds > last_seconds) {
      dt = seconds - last_seconds;
    }
    last_seconds = seconds;
    --cnn_wait;
    --small_wait;

    bool detect = tracks.empty() || ++frames_since_detection >= options.redetect_every;
    for (Track& t : tracks) {
      if (options.redetect_every == 1) {
        // No tracking: every frame is detected afresh; tracks only carry ids and filters.
        t.alive = false;
        continue;
      }
      t.alive = Follow(t, frame);
      if (!t.alive) {
        ++stats.lost;
        detect = true;
        // A lost face (a cut, a turn) is when the slower passes are most worth their cost.
        cnn_wait = small_wait = 0;
        cnn_every = kCnnEvery;
        small_every = kSmallEvery;
      }
    }
    // Lost tracks stay until Redetect: a detection on the same face (overlapping and
    // still looking like it) takes them up again under the same id.
    if (detect) Redetect(frame);
    tracks.erase(std::remove_if(tracks.begin(), tracks.end(), [](const Track& t) { return !t.alive; }), tracks.end());

    std::vector<Face> out;
    out.reserve(tracks.size());
    for (Track& t : tracks) {
      if (options.smooth) {
        const double iod = std::max(InterOcularDistance(t.raw), 1.0);
        for (int i = 0; i < 68; ++i) {
          const cv::Point2d p = t.filters[i].Filter(cv::Point2d(t.raw[i]), dt, iod, options.smoothing);
          t.smoothed[i] = cv::Point2f(static_cast<float>(p.x), static_cast<float>(p.y));
        }
      } else {
        t.smoothed = t.raw;
      }
      Face f;
      f.box = t.box;
      f.points = t.smoothed;
      f.track_id = t.id;
      f.score = t.quality;
      out.push_back(f);
    }
    std::sort(out.begin(), out.end(), [](const Face& a, const Face& b) { return a.track_id < b.track_id; });
    return out;
  }

  void Redetect(const cv::Mat& frame) {
    ++stats.detections;
    frames_since_detection = 0;
    std::vector<Face> boxes = DetectBoxes(frame);  // largest first
    std::vector<bool> used(boxes.size(), false);
    // Greedy matching of tracks to detections by overlap.
    for (Track& t : tracks) {
      int best = -1;
      float best_iou = 0.3f;
      for (size_t j = 0; j < boxes.size(); ++j) {
        if (used[j]) continue;
        const float iou = IoU(t.box, boxes[j].box);
        if (iou > best_iou) {
          best_iou = iou;
          best = static_cast<int>(j);
        }
      }
      if (best >= 0 && !t.alive) {
        // A lost track is taken up again only by a face that still looks like it (a cut
        // to another person at the same place starts a new track).
        const Face fitted = detector.FitLandmarks(frame, boxes[best].box);
        Patch(frame, fitted.points, patch32);
        if (Appearance(patch32, t.reference_patch) < options.min_appearance) best = -1;
      }
      if (best >= 0) {
        used[best] = true;
        // Re-anchor on the detector's box (resets slow drift) while keeping the filter
        // state, so the smoothed landmarks do not jump.
        Anchor(t, frame, boxes[best].box);
        t.alive = true;
      } else if (t.alive && ++t.missed_detections > options.max_missed_detections) {
        t.alive = false;
        ++stats.lost;
      }
    }
    const size_t alive = static_cast<size_t>(std::count_if(tracks.begin(), tracks.end(), [](const Track& t) { return t.alive; }));

    if (options.selection == FaceSelection::kAll) {
      for (size_t j = 0; j < boxes.size(); ++j) {
        if (!used[j]) StartTrack(frame, boxes[j].box);
      }
      return;
    }
    if (alive > 0) return;  // largest / ref: one face, kept while it holds
    int chosen = -1;
    if (options.selection == FaceSelection::kLargest) {
      for (size_t j = 0; j < boxes.size() && chosen < 0; ++j) {
        if (!used[j]) chosen = static_cast<int>(j);
      }
    } else {
      // The nearest face, if it can be the same person at all.
      double best = kSamePersonDistance;
      for (size_t j = 0; j < boxes.size(); ++j) {
        if (used[j]) continue;
        const Face f = detector.FitLandmarks(frame, boxes[j].box);
        const double d = IdentityDistance(frame, f.points);
        if (d < best) {
          best = d;
          chosen = static_cast<int>(j);
        }
      }
    }
    if (chosen >= 0) StartTrack(frame, boxes[chosen].box);
  }

  void StartTrack(const cv::Mat& frame, const cv::Rect2f& box) {
    Track t;
    t.id = next_id++;
    Anchor(t, frame, box);
    tracks.push_back(std::move(t));
  }
};

Tracker::Tracker(const TrackerOptions& options, const DetectorOptions& detector_options) {
  options.Check();
  impl_ = std::make_unique<Impl>(options, detector_options);
  if (options.selection == FaceSelection::kReference) impl_->LoadReference();
}

Tracker::~Tracker() = default;
Tracker::Tracker(Tracker&&) noexcept = default;
Tracker& Tracker::operator=(Tracker&&) noexcept = default;

std::vector<Face> Tracker::Update(const cv::Mat& bgr, double seconds) {
  if (bgr.empty()) return {};
  return impl_->Update(bgr, seconds);
}

std::vector<Face> Tracker::Update(const cv::Mat& bgr) { return Update(bgr, std::numeric_limits<double>::quiet_NaN()); }

void Tracker::Reset() {
  impl_->tracks.clear();
  impl_->next_id = 0;
  impl_->frames_since_detection = 0;
  impl_->cnn_wait = impl_->small_wait = 0;
  impl_->cnn_every = kCnnEvery;
  impl_->small_every = kSmallEvery;
  impl_->last_seconds = std::numeric_limits<double>::quiet_NaN();
}

const Tracker::Stats& Tracker::stats() const { return impl_->stats; }
Detector& Tracker::detector() { return impl_->detector; }

}  // namespace faceswap::face
