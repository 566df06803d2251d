#include "faceswap/face/tracker.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
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
// A raw fit that moves more than this many inter-ocular distances (mean over the 68 points)
// in one frame has jumped (a cut, a dissolve, a face taken up again elsewhere): the smoothing
// starts afresh there instead of gliding from the old place. On person_a.mp4 the raw fit moves
// a median 0.02 IOD a frame, 99% of moves are under 0.22, and its cuts jump 0.35-14; with the
// reset extract's smoothed landmarks trail the raw fit by at most 31 px of the 256 crop, not 46.
constexpr double kJumpIod = 0.3;
constexpr double kReferenceBlend = 0.1;  // per-frame update of a track's reference patch
// How hard a redetection looks (face::DetectEffort). The plain HOG pass always runs. When
// it finds nothing, the slower passes run only where they can find what is missing:
//  * searching (no face is followed, or a track was lost this frame): the upsampled HOG
//    pass (small faces, ~4x the plain cost) and the CNN (turned faces, ~0.85 s a frame
//    here; kAuto), each on a back-off of its own: every 5 frames for the first three
//    passes that find nothing, then doubling up to kSmallEveryMax / kCnnEveryMax frames
//    (a long stretch without faces costs little); a face found that is neither followed
//    nor parked, or a track lost, resets it;
//  * a periodic redetection while faces are followed: the upsampled pass only when a
//    tracked face is too small for the plain pass to find again (on the same back-off:
//    a drawn or turned face it cannot see either does not cost it every time), never the CNN (measured on
//    person_b.mp4: the CNN re-finding a face the tracker already followed cost 12% of
//    convert's CPU time). Three in four such passes run on the frame scaled down (to at
//    most half) so that the smallest followed face is still kCoarseFaceSide pixels across:
//    a quarter of the cost; the fourth, at the detector's full scale, finds faces smaller
//    than the followed ones that came in meanwhile (within 4 x redetect_every frames).
//  * searching, the plain pass of the frames between slow passes likewise runs coarse on
//    two frames in three, scaled for faces kReturningFace as large as the last followed.
constexpr float kCoarseFaceSide = 120.f;  // 1.5x dlib's 80-pixel HOG window
constexpr int kCoarsePassesPerFull = 3;
constexpr float kReturningFace = 0.6f;
constexpr int64_t kRetryEvery = 5;
constexpr int64_t kSmallEveryMax = 30;
constexpr int64_t kCnnEveryMax = 160;
constexpr float kMatchIoU = 0.3f;  // a detection and a track overlap at least this much to match
// A followed face that is lost (a hand or a cup passing in front of it, a turn the fit cannot
// follow) is looked for where it was for this long, and a detection there takes the track up
// again under the same id, so that what depends on the id (convert's decision whose face it
// is) goes on. Before, the track was dropped at once: in the occlusion test's clip a patch
// crossing person_b's face lost her track for 5 frames, and the new track, judged on one
// half-covered face, was left unswapped for 12 more. The face's own look cannot decide that
// it is the same face (half covered, it correlated -0.25 to -0.03 with its patch); the shot
// can: without a cut since the loss, a face at the same place is the same face. After a cut
// (or what looks like one: fast motion) it must still look like it, as a track lost in the
// frame of a cut always had to.
constexpr double kKeepLostSeconds = 1.0;
// A cut: the frame's 32 x 32 grey thumbnail correlates less than kCutCorrelation with the
// previous frame's, or differs from it by more than kCutDifference grey levels (mean absolute
// difference). Measured on consecutive frames (correlation / difference): person_a.mp4's cuts
// 0.01-0.73 / 33-180, person_b.mp4's four (two zooms between a close-up and a wide shot, two
// to a game and back) -0.27-0.70 / 40-99, the scene-cut test's person_a to person_b 0.64 / 51
// (the same framing: correlation alone cannot be trusted); within shots 5% of person_a's
// frames correlate under 0.93 (fast motion: 10 of its 625 frames are taken for cuts, which is
// harmless, the face's look then decides as before), and the occlusion test's patch crossing
// the face changes its frames by 0.99 / 3.8 at most (no cut in its 75 frames). `faceswap -v`
// logs each cut.
constexpr double kCutCorrelation = 0.9;
constexpr double kCutDifference = 20.0;
constexpr int kThumbnailSide = 32;
constexpr double kBlankDeviation = 2.0;  // grey levels

class Backoff {
 public:
  explicit Backoff(int64_t longest) : longest_(longest) {}
  bool Due() const { return wait_ <= 0; }
  void Tick() { --wait_; }
  void Reset() { wait_ = misses_ = 0; }
  void Missed() {
    ++misses_;
    wait_ = std::min(kRetryEvery << std::max<int64_t>(0, misses_ - 3), longest_);
  }

 private:
  int64_t longest_;
  int64_t wait_ = 0;
  int64_t misses_ = 0;
};

// The mean distance between the same points of two fits, in pixels.
double MeanDistance(const Landmarks& a, const Landmarks& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += cv::norm(a[i] - b[i]);
  return sum / static_cast<double>(a.size());
}

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
  int64_t periodic_passes = 0;  // redetections while faces were followed
  int64_t searching_passes = 0;  // plain passes while searching
  float recent_face_width = 0;   // the smallest followed face, last time one was followed
  bool coarse_pass = false;      // the last detection ran on a scaled-down frame
  double last_seconds = std::numeric_limits<double>::quiet_NaN();

  struct Track {
    int id = -1;
    Landmarks raw{};          // last unsmoothed fit
    Landmarks smoothed{};
    std::optional<Landmarks> last_smoothed_raw;  // the raw fit the filters last took
    cv::Rect2f box;
    // Detector box in the landmark frame: (dx, dy, w, h) / radius.
    cv::Vec4f box_relation;
    cv::Mat reference_patch;  // CV_32F
    std::array<OneEuroFilter2D, 68> filters;
    int missed_detections = 0;
    float quality = 1.f;
    bool alive = true;
    bool parked = false;      // not followed frame by frame (Tracker::Park)
    double lost_seconds = 0;  // when a lost track was lost (kKeepLostSeconds)
    bool cut_since_lost = false;  // a cut (kCutCorrelation) since then, or in that frame
  };
  std::vector<Track> tracks;

  // The frame's thumbnail and the previous one's (cuts, kCutCorrelation).
  cv::Mat thumbnail, previous_thumbnail;
  bool lost_this_frame = false;  // a followed or parked track was lost in this frame
  bool cut_this_frame = false;

  // Scratch buffers reused per frame.
  AlignOptions patch_align{kPatchSize, 1.2};
  AlignedFace aligned;
  cv::Mat gray_patch;
  cv::Mat sampled_frame, small_frame;
  cv::Mat patch32;
  cv::Mat ncc;

  // kReference only: the network and the reference face's descriptor.
  std::optional<IdentityEncoder> encoder;
  Descriptor reference{};
  // When the CNN / the upsampled pass may run again while searching.
  Backoff cnn_backoff{kCnnEveryMax};
  Backoff small_backoff{kSmallEveryMax};

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
    const double shift = MeanDistance(second.points, first.points) / iod;
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

  // The max_side for a coarse pass that still finds faces `width` frame pixels across
  // (kCoarseFaceSide in the detection image), at most half the detector's scale; 0: the
  // detector's own scale.
  int CoarseMaxSide(const cv::Mat& frame, float width) const {
    const int longer = std::max(frame.cols, frame.rows);
    const int full = detector.options().max_side > 0 ? std::min(longer, detector.options().max_side) : longer;
    const double scale =
        std::clamp(static_cast<double>(kCoarseFaceSide) * longer / (static_cast<double>(width) * full), 0.5, 1.0);
    return scale < 1.0 ? std::max(160, static_cast<int>(std::lround(full * scale))) : 0;
  }

  // Whether a detector box lies on a face that is followed or parked (the overlap Redetect
  // matches by).
  bool Known(const cv::Rect2f& box) const {
    return std::any_of(tracks.begin(), tracks.end(),
                       [&](const Track& t) { return (t.alive || t.parked) && IoU(t.box, box) > kMatchIoU; });
  }

  // The detector's boxes, with the effort the rules above allow.
  std::vector<Face> DetectBoxes(const cv::Mat& frame) {
    // (Tracks lost in earlier frames are looked for by the plain pass, which finds them again
    // where they were; the slower passes ran when they were lost.)
    const bool searching =
        std::none_of(tracks.begin(), tracks.end(), [](const Track& t) { return t.alive && !t.parked; }) ||
        lost_this_frame;
    DetectEffort effort = DetectEffort::kPlain;
    if (searching) {
      if (detector.has_cnn() && cnn_backoff.Due()) {
        effort = DetectEffort::kAll;
      } else if (small_backoff.Due()) {
        effort = DetectEffort::kSmallFaces;
      }
    }
    int max_side = 0;  // the detector's own
    if (!searching) {
      float followed = std::numeric_limits<float>::max();  // the smallest followed face
      for (const Track& t : tracks) {
        if (!t.parked) followed = std::min(followed, t.box.width);
      }
      recent_face_width = followed;
      if (followed < 1.2f * detector.SmallestPlainFace(frame.size())) {
        if (small_backoff.Due()) effort = DetectEffort::kSmallFaces;
      } else if (++periodic_passes % (kCoarsePassesPerFull + 1) != 0) {
        max_side = CoarseMaxSide(frame, followed);
      }
    } else if (effort == DetectEffort::kPlain && recent_face_width > 0 &&
               ++searching_passes % (kCoarsePassesPerFull + 1) != 0) {
      // Faces that come back after a cut or a turn are about as large as the last ones.
      max_side = CoarseMaxSide(frame, kReturningFace * recent_face_width);
    }
    const int64_t runs_before = detector.cnn_runs();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Face> boxes = detector.DetectBoxes(frame, effort, max_side);
    coarse_pass = max_side > 0;
    spdlog::debug("frame {}: detection ({}, effort {}, max side {}): {} faces in {:.0f} ms", stats.frames - 1,
                  searching ? "searching" : "periodic", static_cast<int>(effort), max_side, boxes.size(),
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (detector.cnn_runs() > runs_before) {
      ++stats.cnn_runs;
      spdlog::debug("frame {}: HOG found no face, the CNN {}", stats.frames - 1,
                    boxes.empty() ? "none either" : std::to_string(boxes.size()));
    }
    // A search looks for faces not followed yet (or lost this frame): boxes on faces that are
    // followed or parked are not what it looks for, so they count as a miss for the slower
    // passes' back-offs (person_a's split screen: 12 frames in a row of ~80 ms upsampled
    // passes that found only the parked strangers).
    const bool found = searching ? std::any_of(boxes.begin(), boxes.end(), [&](const Face& b) { return !Known(b.box); })
                                 : !boxes.empty();
    if (found) {
      small_backoff.Reset();
      if (searching) cnn_backoff.Reset();
    } else {
      if (effort != DetectEffort::kPlain) small_backoff.Missed();
      if (effort == DetectEffort::kAll) cnn_backoff.Missed();
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
    cnn_backoff.Tick();
    small_backoff.Tick();
    const bool cut = Cut(frame);
    cut_this_frame = cut;
    lost_this_frame = false;

    // With no face in view every frame is searched. Faces in view, followed or parked, are
    // redetected every redetect_every frames, which is also when faces that came in since
    // are found.
    bool detect = tracks.empty() || ++frames_since_detection >= options.redetect_every;
    bool lost_earlier = false;
    for (Track& t : tracks) {
      if (!t.alive) {
        lost_earlier = true;
        t.cut_since_lost = t.cut_since_lost || cut;
        continue;
      }
      if (t.parked) {
        // Not refitted, but looked at: its patch at the landmarks it had when last seen. A cut
        // or the face leaving drops the match, and then the frame is searched at once (as for
        // a lost followed face) instead of at the next periodic redetection.
        Patch(frame, t.raw, patch32);
        if (Appearance(patch32, t.reference_patch) < options.min_appearance) {
          t.alive = false;
          lost_this_frame = true;
          detect = true;
          cnn_backoff.Reset();
          small_backoff.Reset();
        }
        continue;
      }
      if (options.redetect_every == 1) {
        // No tracking: every frame is detected afresh; tracks only carry ids and filters.
        t.alive = false;
        t.lost_seconds = seconds;
        t.cut_since_lost = cut;
        continue;
      }
      t.alive = Follow(t, frame);
      if (!t.alive) {
        ++stats.lost;
        t.lost_seconds = seconds;
        t.cut_since_lost = cut;
        lost_this_frame = true;
        detect = true;
        // A lost face (a cut, a turn) is when the slower passes are most worth their cost.
        cnn_backoff.Reset();
        small_backoff.Reset();
      }
    }
    // Lost tracks stay for kKeepLostSeconds: a detection on the same face (overlapping its
    // last place, and after a cut still looking like it) takes them up again under the same
    // id. With no other face in view (followed or parked) the whole frame is searched, as it
    // always was; beside them, a lost one is looked for only around where it was (a
    // whole-frame pass on every frame of that second cost extract about a quarter more time
    // on person_a.mp4, one run each).
    const bool any_followed = std::any_of(tracks.begin(), tracks.end(), [](const Track& t) { return t.alive; });
    if (detect || (lost_earlier && !any_followed)) {
      Redetect(frame, seconds);
    } else if (lost_earlier) {
      LookWhereLost(frame);
    }
    tracks.erase(std::remove_if(tracks.begin(), tracks.end(),
                                [&](const Track& t) {
                                  return !t.alive && (t.parked || seconds - t.lost_seconds > kKeepLostSeconds);
                                }),
                 tracks.end());

    std::vector<Face> out;
    out.reserve(tracks.size());
    for (Track& t : tracks) {
      if (t.parked || !t.alive) continue;
      if (options.smooth) {
        const double iod = std::max(InterOcularDistance(t.raw), 1.0);
        if (t.last_smoothed_raw && MeanDistance(*t.last_smoothed_raw, t.raw) > kJumpIod * iod) {
          for (auto& filter : t.filters) filter.Reset();
        }
        t.last_smoothed_raw = t.raw;
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

  // Whether `frame` is a cut from the previous one (kCutCorrelation); keeps its thumbnail.
  bool Cut(const cv::Mat& frame) {
    std::swap(thumbnail, previous_thumbnail);
    // 16 samples a thumbnail pixel: averaging the whole frame (INTER_AREA) cost 2 ms of a
    // 576 x 1024 frame, a quarter of the tracking stage on person_b.mp4.
    cv::resize(frame, sampled_frame, cv::Size(4 * kThumbnailSide, 4 * kThumbnailSide), 0, 0, cv::INTER_NEAREST);
    cv::resize(sampled_frame, small_frame, cv::Size(kThumbnailSide, kThumbnailSide), 0, 0, cv::INTER_AREA);
    if (small_frame.channels() == 3) {
      cv::cvtColor(small_frame, small_frame, cv::COLOR_BGR2GRAY);
    } else if (small_frame.channels() == 4) {
      cv::cvtColor(small_frame, small_frame, cv::COLOR_BGRA2GRAY);
    }
    small_frame.convertTo(thumbnail, CV_32F);
    if (previous_thumbnail.empty()) return false;
    // A blank frame (a fade through black) is a cut too: no shot goes on through it.
    cv::Scalar mean, deviation;
    cv::meanStdDev(thumbnail, mean, deviation);
    if (deviation[0] < kBlankDeviation) return true;
    const double difference = cv::norm(thumbnail, previous_thumbnail, cv::NORM_L1) / thumbnail.total();
    const double correlation = Appearance(thumbnail, previous_thumbnail);
    const bool cut = difference > kCutDifference || correlation < kCutCorrelation;
    if (cut) spdlog::debug("frame {}: a cut (correlation {:.2f}, difference {:.1f})", stats.frames - 1, correlation, difference);
    return cut;
  }

  // Whether a detection in `box` may take up the lost track `t` (the same face): it overlaps
  // the track's last place and, after a cut, still looks like it. `refound`: its landmarks
  // when they were fitted for the look.
  bool SameFace(const Track& t, const cv::Mat& frame, const cv::Rect2f& box, Landmarks& refound) {
    if (IoU(t.box, box) <= kMatchIoU) return false;
    if (!t.parked && !t.cut_since_lost) return true;
    refound = detector.FitLandmarks(frame, box).points;
    Patch(frame, refound, patch32);
    return Appearance(patch32, t.reference_patch) >= options.min_appearance;
  }

  // The plain detector pass around each lost track's last place (the box grown by half its
  // size on each side).
  void LookWhereLost(const cv::Mat& frame) {
    const cv::Rect2f whole(0, 0, static_cast<float>(frame.cols), static_cast<float>(frame.rows));
    for (Track& t : tracks) {
      if (t.alive || t.parked) continue;
      const cv::Rect2f around = cv::Rect2f(t.box.x - t.box.width / 2, t.box.y - t.box.height / 2, 2 * t.box.width,
                                           2 * t.box.height) & whole;
      const cv::Rect roi(cv::Point(cvFloor(around.x), cvFloor(around.y)),
                         cv::Point(cvCeil(around.x + around.width), cvCeil(around.y + around.height)));
      if (roi.width < 16 || roi.height < 16) continue;
      Landmarks refound{};
      for (Face& found : detector.DetectBoxes(frame(roi), DetectEffort::kPlain, 0)) {
        found.box.x += static_cast<float>(roi.x);
        found.box.y += static_cast<float>(roi.y);
        if (Known(found.box) || !SameFace(t, frame, found.box, refound)) continue;
        Anchor(t, frame, found.box);
        t.alive = true;
        break;
      }
    }
  }

  void Redetect(const cv::Mat& frame, double seconds) {
    ++stats.detections;
    frames_since_detection = 0;
    std::vector<Face> boxes = DetectBoxes(frame);  // largest first
    std::vector<bool> used(boxes.size(), false);
    // Greedy matching of tracks to detections by overlap.
    for (Track& t : tracks) {
      int best = -1;
      float best_iou = kMatchIoU;
      for (size_t j = 0; j < boxes.size(); ++j) {
        if (used[j]) continue;
        const float iou = IoU(t.box, boxes[j].box);
        if (iou > best_iou) {
          best_iou = iou;
          best = static_cast<int>(j);
        }
      }
      Landmarks refound{};
      // A parked track, or one lost at or since a cut, is taken up again only by a face that
      // still looks like it (a cut to another person at the same place starts a new track).
      if (best >= 0 && (t.parked || !t.alive) && !SameFace(t, frame, boxes[best].box, refound)) best = -1;
      if (best >= 0 && t.parked) {
        // Still there: keep it parked, with the landmarks its per-frame look uses brought up
        // to date (a parked face that moves is not taken for one that left).
        used[best] = true;
        t.box = boxes[best].box;
        t.raw = refound;
        t.missed_detections = 0;
        t.alive = true;
      } else if (best >= 0 && t.alive && coarse_pass) {
        // A coarse pass's box is too rough to fit from (re-anchoring on it moved extract's
        // landmarks enough to cost eval's judge 5 of person_b's 60 real faces): it only
        // confirms the face is still there; the full-scale passes re-anchor.
        used[best] = true;
        t.missed_detections = 0;
      } else if (best >= 0) {
        used[best] = true;
        // Re-anchor on the detector's box (resets slow drift) while keeping the filter
        // state, so the smoothed landmarks do not jump.
        Anchor(t, frame, boxes[best].box);
        t.alive = true;
      } else if (t.alive && ++t.missed_detections > options.max_missed_detections) {
        t.alive = false;
        t.lost_seconds = seconds;
        t.cut_since_lost = cut_this_frame;
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
    if (chosen >= 0) {
      // One face at a time: a lost one that was not found again gives way to the new one.
      for (Track& t : tracks) {
        if (!t.alive) t.lost_seconds = -std::numeric_limits<double>::infinity();
      }
      StartTrack(frame, boxes[chosen].box);
    }
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
  impl_->cnn_backoff.Reset();
  impl_->small_backoff.Reset();
  impl_->recent_face_width = 0;
  impl_->thumbnail.release();
  impl_->previous_thumbnail.release();
  impl_->last_seconds = std::numeric_limits<double>::quiet_NaN();
}

void Tracker::Park(int track_id) {
  for (auto& t : impl_->tracks) {
    if (t.id == track_id && !t.parked) {
      t.parked = true;
      ++impl_->stats.parked;
    }
  }
}

int Tracker::parked_tracks() const {
  return static_cast<int>(std::count_if(impl_->tracks.begin(), impl_->tracks.end(), [](const auto& t) { return t.parked; }));
}

bool Tracker::last_frame_was_cut() const { return impl_->cut_this_frame; }

const Tracker::Stats& Tracker::stats() const { return impl_->stats; }
Detector& Tracker::detector() { return impl_->detector; }

}  // namespace faceswap::face
