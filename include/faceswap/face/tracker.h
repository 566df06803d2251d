#pragma once
// face::Tracker follows faces through a clip without running the full-frame detector on
// every frame: each face's box is predicted from its previous landmarks and the landmarks
// are refitted there. The detector runs again every `redetect_every` frames, and at once
// when a fit degrades (scene cut, face lost), measured by two tests:
//   * appearance: normalised cross-correlation of a small aligned gray patch against the
//     track's reference patch (a cut or a drift onto background drops it);
//   * convergence: refitting from the box the new landmarks imply must give the same
//     landmarks (mean shift / inter-ocular distance); a predictor fitted to something
//     that is not a face does not settle. When that box is within `refit_tolerance` of
//     the box the fit started from, the fit has settled already and the second fit is
//     skipped (about every other frame of a talking head).
// A lost face is looked for where it was for a second (kKeepLostSeconds in tracker.cpp);
// found again there, it keeps its track id (after a cut only if it still looks like it).
// Landmarks are smoothed with a One-Euro filter (see one_euro.h).
//
//   face::Tracker tracker(tracker_options, detector_options);
//   while (reader.Next(frame)) for (const face::Face& f : tracker.Update(frame.bgr, frame.seconds)) ...

#include <opencv2/core.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/face/detector.h"
#include "faceswap/face/face.h"
#include "faceswap/face/one_euro.h"

namespace faceswap::face {

enum class FaceSelection {
  kAll,        // every face, each with its own track id
  kLargest,    // the largest face when a track starts; that track is kept while it holds
  kReference,  // the face most like a reference image (face-recognition descriptors)
};

struct TrackerOptions {
  // Run the detector every N frames (1: every frame, i.e. no tracking). Between
  // detections faces are followed by refitting landmarks.
  int redetect_every = 15;
  // A track whose appearance correlation with its reference falls below this is lost.
  double min_appearance = 0.3;
  // A track whose refit moves landmarks more than this (fraction of the inter-ocular
  // distance, mean over the 68 points) is lost.
  double max_refit_shift = 0.12;
  // The convergence refit is skipped when the box the new landmarks imply moved less than
  // this fraction of the box width from where the fit started (0: always refit). At 0.01
  // it skips 40-55% of the refits on the shared clips with the landmark jitter of always
  // refitting (person_a's raw fit: 0.0326 inter-ocular distances a frame against 0.0325,
  // tracker_test), and convert's frames stay within 47 dB PSNR of always refitting
  // (convert_slow_test; 56 dB while the landmarks were smoothed by default).
  double refit_tolerance = 0.01;
  // Periodic detections in a row that may miss a tracked face (profile views beat the HOG
  // detector) before the track is dropped, as long as its fit stays good.
  int max_missed_detections = 4;
  // One-Euro smoothing of the landmarks over time, off by default: it steadies the points
  // but places the face where it was rather than where it is (on person_a a median 6 px of
  // the 256 crop behind the raw fit), and with it the swap measured worse in every eval
  // figure but pose (README, "Measuring quality": 4000 steps each, ID retrieval of the
  // target 0.62 / 0.94 smoothed against 0.89 / 1.00 raw, temporal 1.07 / 0.95 against
  // 0.99 / 0.99). extract, convert and live take --smooth for steadier points.
  bool smooth = false;
  // Tuned on person_a.mp4 (a talking, moving phone-camera face): 0.3 Hz at rest and a
  // cutoff that rises by 0.15 Hz per inter-ocular distance per second of motion cut the
  // mean frame-to-frame landmark motion to ~0.4 of the raw fits.
  OneEuroParams smoothing{0.3, 0.15, 1.0};
  // Frame interval assumed when Update() gets no timestamp.
  double default_fps = 30.0;
  FaceSelection selection = FaceSelection::kAll;
  std::optional<std::filesystem::path> reference_image;  // for kReference

  void Check() const;  // throws UsageError
};

// "all", "largest" or "ref:IMAGE" into the options' selection and reference image.
void ParseFaceSelection(const std::string& text, TrackerOptions& options);

class Tracker {
 public:
  // Loads the landmark model (via Detector) and, for kReference, the face-recognition
  // network and the reference face (InputError when either is missing).
  Tracker(const TrackerOptions& options, const DetectorOptions& detector_options);
  ~Tracker();
  Tracker(Tracker&&) noexcept;
  Tracker& operator=(Tracker&&) noexcept;

  // The faces in this frame (tracked, smoothed), sorted by track id. `seconds` is the
  // frame's timestamp (for the filter's time constants); NaN: 1/default_fps after the last.
  std::vector<Face> Update(const cv::Mat& bgr, double seconds);
  std::vector<Face> Update(const cv::Mat& bgr);

  // Whether the frame of the last Update starts a new shot (the cut test in tracker.cpp).
  bool last_frame_was_cut() const;

  // Forget all tracks (next Update detects); ids start again from 0 (a new clip).
  void Reset();

  // Stops following a face whose landmarks are not needed any more (convert: a person it
  // leaves alone), which then costs almost nothing per frame: Update no longer refits nor
  // returns it, only compares its appearance patch (a cut or the face leaving makes the
  // frame searched at once), and detections on it are still matched to it by overlap, so
  // it does not come back as a new face; it is dropped when max_missed_detections
  // redetections in a row miss it, or when its appearance no longer matches and no
  // detection finds it again.
  void Park(int track_id);
  // Parked tracks not dropped yet (their faces are in the frame, or left it less than
  // max_missed_detections redetections ago).
  int parked_tracks() const;

  struct Stats {
    int64_t frames = 0;
    int64_t detections = 0;      // full-frame detector runs
    int64_t lost = 0;            // tracks dropped because a fit degraded
    int64_t cnn_runs = 0;        // CNN detector passes (DetectorKind kAuto / kCnn)
    int64_t refits = 0;          // tracked faces followed into a new frame
    int64_t refits_skipped = 0;  // ... whose second landmark fit was not needed
    int64_t parked = 0;          // tracks parked (Park)
  };
  const Stats& stats() const;
  Detector& detector();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceswap::face
