// Tracking on a real clip. One decode of person_a.mp4 drives two trackers (smoothing off
// and on; the same detection schedule), and several assertions share that pass.

#include "faceswap/face/tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "faceswap/core/error.h"

#include "faceswap/face/align.h"
#include "faceswap/video/reader.h"
#include "test_support.h"

namespace faceswap::test {
namespace {

struct ClipPass {
  int64_t frames = 0;
  int64_t found = 0;                 // frames where all three trackers have a face
  double eye_error_sum = 0;          // |aligned eye centre - template eye| / crop size
  int64_t eye_samples = 0;
  // Sums of the mean frame-to-frame landmark motion / IOD: the default tracker (raw fit,
  // refits skipped where the fit has settled), the same refitting every frame, smoothed.
  double raw_motion = 0, every_refit_motion = 0, smooth_motion = 0;
  int64_t motion_samples = 0;
  int64_t detections = 0;
  std::map<int, int64_t> frames_per_track;
};

// The first frame of a clip or an image (empty when it has none).
cv::Mat FirstFrame(const std::filesystem::path& path) {
  video::Reader reader(path);
  video::Frame frame;
  return reader.Next(frame) ? frame.bgr.clone() : cv::Mat();
}

// One tracker of the pass and its previous frame's first face.
struct TrackedRun {
  explicit TrackedRun(const face::TrackerOptions& options) : tracker(options, face::DetectorOptions{}) {}
  face::Tracker tracker;
  std::vector<face::Face> faces;
  std::optional<face::Face> last;

  // Mean landmark motion since the previous frame / IOD; nullopt across a track change.
  std::optional<double> Motion() const {
    if (!last || faces.empty() || faces[0].track_id != last->track_id) return std::nullopt;
    double sum = 0;
    for (int i = 0; i < 68; ++i) sum += cv::norm(faces[0].points[i] - last->points[i]);
    return sum / 68.0 / face::InterOcularDistance(faces[0].points);
  }
};

const ClipPass& PersonAPass() {
  static const ClipPass pass = [] {
    ClipPass p;
    std::string why;
    const auto path = SampleFile("clips/person_a.mp4", &why);
    if (!path) return p;
    face::TrackerOptions every_refit_options, smooth_options;
    every_refit_options.refit_tolerance = 0;
    smooth_options.smooth = true;
    TrackedRun raw{face::TrackerOptions{}}, every_refit{every_refit_options}, smooth{smooth_options};
    const face::AlignOptions align;
    face::AlignedFace aligned;
    video::Reader reader(*path);
    video::Frame frame;
    while (reader.Next(frame)) {
      ++p.frames;
      for (TrackedRun* run : {&raw, &every_refit, &smooth}) run->faces = run->tracker.Update(frame.bgr, frame.seconds);
      if (raw.faces.empty() || every_refit.faces.empty() || smooth.faces.empty()) {
        for (TrackedRun* run : {&raw, &every_refit, &smooth}) run->last.reset();
        continue;
      }
      const face::Face& s = smooth.faces[0];
      ++p.found;
      ++p.frames_per_track[s.track_id];
      face::Align(frame.bgr, s.points, align, aligned);
      p.eye_error_sum += cv::norm(cv::Point2d(face::RightEyeCentre(aligned.crop_points)) - face::TemplateRightEyeInCrop(align)) / align.size;
      p.eye_error_sum += cv::norm(cv::Point2d(face::LeftEyeCentre(aligned.crop_points)) - face::TemplateLeftEyeInCrop(align)) / align.size;
      p.eye_samples += 2;
      // Motion is measured along one track (an id change is another face, not motion).
      const auto mr = raw.Motion(), me = every_refit.Motion(), ms = smooth.Motion();
      if (mr && me && ms) {
        p.raw_motion += *mr;
        p.every_refit_motion += *me;
        p.smooth_motion += *ms;
        ++p.motion_samples;
      }
      for (TrackedRun* run : {&raw, &every_refit, &smooth}) run->last = run->faces[0];
    }
    p.detections = smooth.tracker.stats().detections;
    const double samples = static_cast<double>(std::max<int64_t>(p.motion_samples, 1));
    std::printf("person_a: %lld frames, face in %lld, %lld detector runs, %zu track ids, eye error %.4f of crop, "
                "jitter raw %.4f (refitting every frame %.4f) smooth %.4f IOD/frame\n",
                static_cast<long long>(p.frames), static_cast<long long>(p.found), static_cast<long long>(p.detections),
                p.frames_per_track.size(), p.eye_error_sum / std::max<int64_t>(p.eye_samples, 1),
                p.raw_motion / samples, p.every_refit_motion / samples, p.smooth_motion / samples);
    return p;
  }();
  return pass;
}

#define REQUIRE_PERSON_A()                                       \
  FACESWAP_REQUIRE_SAMPLE(clip_path_, "clips/person_a.mp4");     \
  const ClipPass& pass = PersonAPass();                          \
  ASSERT_GT(pass.frames, 600)

// One test, because ctest runs each test in its own process: three tests would decode and
// track the clip three times.
TEST(TrackerPersonA, FoundRateEyeAlignmentAndJitter) {
  REQUIRE_PERSON_A();
  // A face in at least 98% of the frames.
  EXPECT_GE(static_cast<double>(pass.found) / pass.frames, 0.98);
  // Tracking really tracks: the detector ran on a minority of frames.
  EXPECT_LT(pass.detections, pass.frames / 4);
  // One person, one identity for nearly the whole clip (it ends on a split screen of
  // many small faces, which gets new tracks).
  int64_t longest = 0;
  for (const auto& [id, n] : pass.frames_per_track) longest = std::max(longest, n);
  EXPECT_GE(static_cast<double>(longest) / pass.frames, 0.85);

  // Aligned crops put both eye centres within 2% of the crop size of the template's.
  ASSERT_GT(pass.eye_samples, 0);
  EXPECT_LT(pass.eye_error_sum / pass.eye_samples, 0.02);

  // --smooth at least halves the mean frame-to-frame landmark motion; the refits the
  // default skips where the fit has settled add little to it.
  ASSERT_GT(pass.motion_samples, 500);
  const double raw = pass.raw_motion / pass.motion_samples, smooth = pass.smooth_motion / pass.motion_samples;
  const double every_refit = pass.every_refit_motion / pass.motion_samples;
  EXPECT_GT(raw, 0.0);
  EXPECT_LT(smooth, 0.5 * raw) << "raw " << raw << " smooth " << smooth;
  EXPECT_LT(raw, 1.1 * every_refit) << "raw " << raw << " refitting every frame " << every_refit;
}

TEST(Tracker, SceneCutStartsANewTrackOnTheNewFace) {
  // 40 frames of person_a, then 40 of person_b: a hard cut between two people at
  // different places in the frame. The tracker must notice at the cut (not wait for the
  // periodic redetection) and follow the new face under a new id.
  FACESWAP_REQUIRE_SAMPLE(a_path, "clips/person_a.mp4");
  FACESWAP_REQUIRE_SAMPLE(b_path, "clips/person_b.mp4");
  face::TrackerOptions options;
  options.redetect_every = 1000;  // only the fit test can trigger a detection
  face::Tracker tracker(options, face::DetectorOptions{});
  video::Reader a(a_path), b(b_path);
  video::Frame frame;
  int id_a = -1;
  for (int i = 0; i < 40 && a.Next(frame); ++i) {
    const auto faces = tracker.Update(frame.bgr, frame.seconds);
    ASSERT_EQ(faces.size(), 1u) << "frame " << i;
    id_a = faces[0].track_id;
  }
  const int64_t detections_before = tracker.stats().detections;
  face::Detector reference{face::DetectorOptions{}};
  for (int i = 0; i < 40 && b.Next(frame); ++i) {
    const auto faces = tracker.Update(frame.bgr, 40.0 / 30 + i / 30.0);
    ASSERT_EQ(faces.size(), 1u) << "frame " << i << " after the cut";
    EXPECT_NE(faces[0].track_id, id_a);
    if (i == 5) {
      // The tracked landmarks lie on person_b's face, as a fresh detection finds it.
      const auto truth = reference.Detect(frame.bgr);
      ASSERT_EQ(truth.size(), 1u);
      const double iod = face::InterOcularDistance(truth[0].points);
      EXPECT_LT(cv::norm(face::RightEyeCentre(faces[0].points) - face::RightEyeCentre(truth[0].points)), 0.2 * iod);
    }
  }
  EXPECT_GT(tracker.stats().detections, detections_before);
  EXPECT_GE(tracker.stats().lost, 1);
}

TEST(Tracker, SmoothingStartsAfreshWhereTheFaceJumps) {
  // person_a's first frame held still for 20 frames, then the same picture moved by 40% of
  // the face's width (a cut to another shot of the same face): the track goes on under the
  // same id, and the smoothed landmarks must land on the face at once, as the raw fit does,
  // instead of gliding over from where it was (before the reset: 0.8 IOD behind).
  FACESWAP_REQUIRE_SAMPLE(path, "clips/person_a.mp4");
  const cv::Mat first = FirstFrame(path);
  ASSERT_FALSE(first.empty());
  face::TrackerOptions smooth_options;
  smooth_options.smooth = true;
  face::Tracker smooth(smooth_options, face::DetectorOptions{});
  face::Tracker raw(face::TrackerOptions{}, face::DetectorOptions{});
  int id = -1;
  float width = 0;
  for (int i = 0; i < 20; ++i) {
    const auto faces = smooth.Update(first, i / 30.0);
    raw.Update(first, i / 30.0);
    ASSERT_EQ(faces.size(), 1u) << "frame " << i;
    id = faces[0].track_id;
    width = faces[0].box.width;
  }
  cv::Mat moved;
  const cv::Matx23d shift(1, 0, 0.4 * width, 0, 1, 0);
  cv::warpAffine(first, moved, shift, first.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  const auto faces = smooth.Update(moved, 20 / 30.0);
  const auto truth = raw.Update(moved, 20 / 30.0);
  ASSERT_EQ(faces.size(), 1u);
  ASSERT_EQ(truth.size(), 1u);
  ASSERT_EQ(faces[0].track_id, id) << "the jump started a new track: this test no longer tests the filters";
  const double iod = face::InterOcularDistance(truth[0].points);
  double distance = 0.0;
  for (size_t i = 0; i < truth[0].points.size(); ++i) distance += cv::norm(faces[0].points[i] - truth[0].points[i]);
  EXPECT_LT(distance / truth[0].points.size(), 0.05 * iod);
}

TEST(Tracker, AFaceLostBehindSomethingComesBackUnderItsId) {
  // person_a's first frame, then the same frame with her face covered by a flat grey card
  // (the fit is lost, no detector finds a face), then uncovered again: within
  // kKeepLostSeconds (1 s) the track goes on under its id (whose face it is, decided on
  // earlier frames, goes on with it); after longer, the face is a new track.
  FACESWAP_REQUIRE_SAMPLE(path, "clips/person_a.mp4");
  const cv::Mat first = FirstFrame(path);
  ASSERT_FALSE(first.empty());
  face::Tracker tracker(face::TrackerOptions{}, face::DetectorOptions{});
  double seconds = 0;
  auto show = [&](const cv::Mat& frame, int frames) {
    std::vector<face::Face> faces;
    for (int i = 0; i < frames; ++i, seconds += 1 / 30.0) faces = tracker.Update(frame, seconds);
    return faces;
  };
  const auto seen = show(first, 10);
  ASSERT_EQ(seen.size(), 1u);
  const int id = seen[0].track_id;
  cv::Mat covered = first.clone();
  const cv::Rect card = cv::Rect(seen[0].box) & cv::Rect(0, 0, covered.cols, covered.rows);
  covered(card).setTo(cv::Scalar(128, 128, 128));
  ASSERT_TRUE(show(covered, 5).empty()) << "the card does not hide the face: this test no longer tests losing it";
  const auto back = show(first, 1);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].track_id, id);

  ASSERT_TRUE(show(covered, 40).empty());  // 1.3 s
  const auto later = show(first, 1);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_NE(later[0].track_id, id);
}

TEST(Tracker, SelectionParsing) {
  face::TrackerOptions o;
  face::ParseFaceSelection("largest", o);
  EXPECT_EQ(o.selection, face::FaceSelection::kLargest);
  face::ParseFaceSelection("ref:/tmp/me.png", o);
  EXPECT_EQ(o.selection, face::FaceSelection::kReference);
  EXPECT_EQ(o.reference_image->string(), "/tmp/me.png");
  EXPECT_THROW(face::ParseFaceSelection("biggest", o), UsageError);
  EXPECT_THROW(face::ParseFaceSelection("ref:", o), UsageError);
}

TEST(Tracker, LargestAndReferenceSelectionOnTwoPeople) {
  FACESWAP_REQUIRE_SAMPLE(two, "images/two_people.jpg");
  const cv::Mat frame = FirstFrame(two);
  ASSERT_FALSE(frame.empty());
  face::Detector detector{face::DetectorOptions{}};
  const auto all = detector.Detect(frame);
  ASSERT_EQ(all.size(), 2u);

  face::TrackerOptions largest;
  face::ParseFaceSelection("largest", largest);
  face::Tracker t1(largest, face::DetectorOptions{});
  const auto one = t1.Update(frame);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_GT((one[0].box & all[0].box).area(), 0.5f * all[0].box.area());  // all[] is largest first

  // Reference: a crop of the smaller person's face (from this photo) picks that person.
  const auto dir = MakeTempDir("tracker_ref");
  const cv::Rect2f b = all[1].box;
  const cv::Rect margin = cv::Rect(cv::Point(int(b.x - b.width), int(b.y - b.height)),
                                   cv::Point(int(b.br().x + b.width), int(b.br().y + b.height))) &
                          cv::Rect(0, 0, frame.cols, frame.rows);
  const auto ref_path = dir / "ref.png";
  ASSERT_TRUE(cv::imwrite(ref_path.string(), frame(margin)));
  face::TrackerOptions by_ref;
  face::ParseFaceSelection("ref:" + ref_path.string(), by_ref);
  face::Tracker t2(by_ref, face::DetectorOptions{});
  const auto chosen = t2.Update(frame);
  ASSERT_EQ(chosen.size(), 1u);
  EXPECT_GT((chosen[0].box & all[1].box).area(), 0.5f * all[1].box.area());
}

TEST(Tracker, ParkedFaceIsNotFollowedNorStartedAgain) {
  // Two people in a still photo, shown as a 60-frame clip: once the smaller face is parked
  // (convert: somebody it leaves alone), Update returns only the other one, and the
  // periodic redetections that still see the parked face do not make a new track of it.
  FACESWAP_REQUIRE_SAMPLE(two, "images/two_people.jpg");
  const cv::Mat frame = FirstFrame(two);
  ASSERT_FALSE(frame.empty());
  face::DetectorOptions hog;  // the CNN's searches after the face is gone would only cost time here
  hog.kind = face::DetectorKind::kHog;
  face::Tracker tracker(face::TrackerOptions{}, hog);
  const auto first = tracker.Update(frame, 0.0);
  ASSERT_EQ(first.size(), 2u);
  const auto smaller = std::min_element(first.begin(), first.end(), [](const face::Face& a, const face::Face& b) {
    return a.box.area() < b.box.area();
  });
  const int parked = smaller->track_id, followed = first[0].track_id == parked ? first[1].track_id : first[0].track_id;
  tracker.Park(parked);
  EXPECT_EQ(tracker.parked_tracks(), 1);
  for (int i = 1; i < 60; ++i) {
    const auto faces = tracker.Update(frame, i / 30.0);
    ASSERT_EQ(faces.size(), 1u) << "frame " << i;
    EXPECT_EQ(faces[0].track_id, followed) << "frame " << i;
    EXPECT_EQ(tracker.parked_tracks(), 1) << "frame " << i;
  }
  EXPECT_GE(tracker.stats().detections, 3);  // redetections ran, and saw the parked face again
  EXPECT_EQ(tracker.stats().parked, 1);

  // When the face is gone, the parked track goes too, after max_missed_detections misses.
  const cv::Mat empty(frame.size(), CV_8UC3, cv::Scalar(90, 90, 90));
  for (int i = 0; i < 5 * face::TrackerOptions{}.redetect_every + 1; ++i) tracker.Update(empty, 2.0 + i / 30.0);
  EXPECT_EQ(tracker.parked_tracks(), 0);
}

TEST(Tracker, OnlyParkedFacesInViewAreRedetectedPeriodicallyAndACutIsSeenAtOnce) {
  // Everybody in view parked (convert: strangers only): the frames are not searched one by
  // one, only redetected every redetect_every frames, yet a cut away from them is searched
  // in the frame it happens.
  FACESWAP_REQUIRE_SAMPLE(two, "images/two_people.jpg");
  const cv::Mat frame = FirstFrame(two);
  ASSERT_FALSE(frame.empty());
  face::DetectorOptions hog;
  hog.kind = face::DetectorKind::kHog;
  const face::TrackerOptions options;
  face::Tracker tracker(options, hog);
  const auto first = tracker.Update(frame, 0.0);
  ASSERT_EQ(first.size(), 2u);
  for (const auto& f : first) tracker.Park(f.track_id);
  const int64_t start = tracker.stats().detections;
  const int frames = 4 * options.redetect_every;
  for (int i = 1; i <= frames; ++i) {
    EXPECT_TRUE(tracker.Update(frame, i / 30.0).empty()) << "frame " << i;
    ASSERT_EQ(tracker.parked_tracks(), 2) << "frame " << i;
  }
  EXPECT_EQ(tracker.stats().detections - start, frames / options.redetect_every);

  const cv::Mat cut(frame.size(), CV_8UC3, cv::Scalar(90, 90, 90));
  const int64_t before_cut = tracker.stats().detections;
  tracker.Update(cut, (frames + 1) / 30.0);
  EXPECT_EQ(tracker.stats().detections, before_cut + 1);
  EXPECT_EQ(tracker.parked_tracks(), 0);
}

}  // namespace
}  // namespace faceswap::test
