// Things in front of the face stay in front: a real-textured patch moves across the face of
// a shared clip, and convert must keep its pixels (the model's mask) where the landmark hull
// alone pastes the swapped face over it (label slow).

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdlib>

#include "e2e_fixtures.h"
#include "faceswap/blend/mask.h"
#include "faceswap/face/tracker.h"
#include "faceswap/video/reader.h"
#include "faceswap/video/writer.h"
#include "test_support.h"
#include "video_test_util.h"

namespace fs = std::filesystem;

namespace faceswap::test {
namespace {

constexpr int kFrames = 75;            // 2.5 s of the clip
constexpr int kFirstMoving = 8;        // the patch crosses the face over these 60 frames (2 s)
constexpr int kMovingFrames = 60;

// Sum of squared differences and pixel count over `where`, to pool PSNR over frames.
struct SquaredError {
  double sum = 0, values = 0;
  void Add(const cv::Mat& a, const cv::Mat& b, const cv::Mat& where) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    diff.convertTo(diff, CV_32F);
    diff = diff.mul(diff);
    diff.setTo(cv::Scalar::all(0), ~where);
    const cv::Scalar s = cv::sum(diff);
    sum += s[0] + s[1] + s[2];
    values += 3.0 * cv::countNonZero(where);
  }
  double Psnr() const { return values == 0 ? 0 : 10 * std::log10(255.0 * 255.0 * values / std::max(sum, 1e-9)); }
};

cv::Mat Hull(const face::Face& f, cv::Size size, double grow) {
  std::vector<cv::Point2f> points(f.points.begin(), f.points.end());
  const double width = face::LandmarkBounds(f.points).width;
  return blend::HullMask(points, size, {-static_cast<int>(grow * width), 0}) > 0.5f;
}

TEST(OcclusionSlow, APatchMovingAcrossTheFaceStaysInFront) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  FACESWAP_REQUIRE_SAMPLE(photo_file, "images/obama-1080p.jpg");
  // FACESWAP_OCCLUSION_MODEL measures another model on the same clip (README's figures for
  // the 20-minute models); the bounds below are the fixture's.
  const char* other_model = std::getenv("FACESWAP_OCCLUSION_MODEL");
  const fs::path model = other_model && *other_model ? fs::path(other_model) : TrainedLiteModel();
  const fs::path dir = MakeTempDir("occlusion");

  // The occluder: a hand-sized oval cut from the photo's suit, shirt and tie, moving
  // across the face at the height of the nose.
  std::vector<cv::Mat> frames;
  std::vector<int64_t> pts;
  {
    video::Reader reader(clip);
    video::Frame frame;
    while (static_cast<int>(frames.size()) < kFrames && reader.Next(frame)) {
      frames.push_back(frame.bgr.clone());
      pts.push_back(frame.pts);
    }
  }
  ASSERT_EQ(static_cast<int>(frames.size()), kFrames);
  std::vector<face::Face> faces;
  {
    face::Tracker tracker(face::TrackerOptions{}, face::DetectorOptions{});
    for (int i = 0; i < kFrames; ++i) {
      const auto found = tracker.Update(frames[i], i / 30.0);
      ASSERT_FALSE(found.empty()) << "frame " << i;
      faces.push_back(found.front());
    }
  }
  const cv::Mat photo = cv::imread(photo_file.string());
  const cv::Rect box0 = face::LandmarkBounds(faces[0].points);
  const cv::Size patch_size(static_cast<int>(0.45 * box0.width), static_cast<int>(0.75 * box0.height));
  cv::Mat texture;
  cv::resize(photo(cv::Rect(photo.cols / 2 - 260, photo.rows * 3 / 4 - 120, 520, 240)), texture,
             cv::Size(patch_size.width, patch_size.height), 0, 0, cv::INTER_AREA);
  std::vector<cv::Mat> covers(kFrames);
  const fs::path occluded = dir / "occluded.mp4";
  {
    video::Reader reader(clip);
    video::WriterOptions plain;
    plain.keep_audio = false;
    video::Writer writer(occluded, reader.info(), plain);
    for (int i = 0; i < kFrames; ++i) {
      const cv::Rect box = face::LandmarkBounds(faces[i].points);
      const double t = std::clamp((i - kFirstMoving) / double(kMovingFrames - 1), 0.0, 1.0);
      const int cx = static_cast<int>(box.x - 0.3 * box.width + t * 1.6 * box.width);
      const int cy = static_cast<int>(faces[i].points[30].y);  // the tip of the nose
      cv::Mat alpha = cv::Mat::zeros(frames[i].size(), CV_8UC1);
      cv::ellipse(alpha, {cx, cy}, {patch_size.width / 2, patch_size.height / 2}, 0, 0, 360, cv::Scalar(255),
                  cv::FILLED, cv::LINE_AA);
      cv::Mat surface = frames[i].clone();
      const cv::Rect place = cv::Rect(cx - patch_size.width / 2, cy - patch_size.height / 2, patch_size.width,
                                      patch_size.height) & cv::Rect(0, 0, frames[i].cols, frames[i].rows);
      texture(cv::Rect(place.x - (cx - patch_size.width / 2), place.y - (cy - patch_size.height / 2), place.width,
                       place.height))
          .copyTo(surface(place));
      surface.copyTo(frames[i], alpha > 127);
      covers[i] = alpha;
      video::Frame out;
      out.bgr = frames[i];
      out.pts = pts[i];
      writer.Write(out);
    }
    writer.Finish();
  }
  cv::imwrite((dir / "occluded_frame.png").string(), frames[kFirstMoving + kMovingFrames / 2]);

  // Convert with the learned mask (the default) and with the landmark hull alone.
  const fs::path learned = dir / "learned.mp4", hull = dir / "hull.mp4";
  RunFaceswap("-q convert " + occluded.string() + " -o " + learned.string() + " -m " + model.string());
  RunFaceswap("-q convert " + occluded.string() + " -o " + hull.string() + " -m " + model.string() +
              " --mask landmarks");
  const auto input = DecodeAll(occluded), with_learned = DecodeAll(learned), with_hull = DecodeAll(hull);
  ASSERT_EQ(static_cast<int>(input.size()), kFrames);
  ASSERT_EQ(with_learned.size(), input.size());
  ASSERT_EQ(with_hull.size(), input.size());

  // The occluder's pixels over the face (a few pixels in from its edge, where the codec
  // and the blend mix it with its surroundings), and the face away from it.
  SquaredError occluder_learned, occluder_hull, face_learned;
  int measured = 0, left_alone = 0;
  const cv::Mat grow = cv::getStructuringElement(cv::MORPH_ELLIPSE, {31, 31});
  for (int i = kFirstMoving; i < kFirstMoving + kMovingFrames; ++i) {
    const cv::Mat face = Hull(faces[i], input[i].size(), 0.05);
    cv::Mat inner, around;
    cv::erode(covers[i] > 250, inner, cv::getStructuringElement(cv::MORPH_ELLIPSE, {7, 7}));
    cv::dilate(covers[i] > 0, around, grow);
    const cv::Mat occluder = inner & face;
    if (cv::countNonZero(occluder) < 400) continue;
    occluder_learned.Add(with_learned[i], input[i], occluder);
    occluder_hull.Add(with_hull[i], input[i], occluder);
    SquaredError this_face;
    this_face.Add(with_learned[i], input[i], face & ~around);
    face_learned.sum += this_face.sum;
    face_learned.values += this_face.values;
    if (this_face.Psnr() > 40.0) ++left_alone;  // not swapped: only the codec changed it
    ++measured;
    if (i == kFirstMoving + kMovingFrames / 2) {
      cv::Mat side_by_side;
      cv::hconcat(std::vector<cv::Mat>{input[i], with_hull[i], with_learned[i]}, side_by_side);
      cv::imwrite((dir / "input_hull_learned.png").string(), side_by_side);
    }
  }
  ASSERT_GT(measured, 30);
  std::printf(
      "occluder PSNR: learned mask %.1f dB, landmark hull %.1f dB; uncovered face %.1f dB (%d frames, %d not "
      "swapped; %s)\n",
      occluder_learned.Psnr(), occluder_hull.Psnr(), face_learned.Psnr(), measured, left_alone, dir.c_str());
  // Issue 28 asks for 30 dB. The mask finds the patch by how differently the model redraws
  // the face there, so it needs a model that draws the face: the fixture's 300 steps of
  // batch 8 kept the patch at 21.2 dB (hull 16.7), a 4-minute model at 23.6, a 20-minute one
  // at 26.0 (25.7 since the tracker keeps the face), 300 steps with `--occluders 0.5` at
  // 27.2-30.2 (README, "Things in front of the face"; the patch's skin-coloured hand, a
  // tenth of it, is drawn over). The bound was what the fixture reached, above the hull.
  // Since a lost track is taken up again under its id (tracker.cpp, kKeepLostSeconds), the
  // half-covered frames after the detector finds the face again are swapped too, which
  // costs the fixture's patch 21.0 -> 18.8 dB (the hull's 16.7 -> 14.2). Since each track
  // remembers its face (blend::FaceMemory), the hand's fingers beside the suit are kept
  // too: 18.8 -> 20.3 dB with the fixture, 25.7 -> 30.4 dB with the 20-minute `lite`.
  // Since the memory is registered onto each crop (2026-12-06): fixture 23.9 -> 26.0 dB (the
  // fixture of that day), the 20-minute default 28.7 -> 31.2, the 60-minute one 30.5 -> 32.4.
  // Since the memory reaches fainter change beside a cover, learns slowly there and starts
  // covers where the model doubts (2026-12-06): seven fixtures of this recipe (seeds 1-6,
  // bf16 and fp32) 32.9-34.8 dB, the 20-minute default 37.9, the 60-minute one 38.1. The
  // bound is issue 28's.
  EXPECT_GE(occluder_learned.Psnr(), 30.0);
  EXPECT_GT(occluder_learned.Psnr(), occluder_hull.Psnr() + 3.0);
  // The face stays swapped in every frame while the patch crosses it. The tracker loses it
  // for 5 frames mid-patch; since convert bridges such gaps (pipeline::GapBridge,
  // 2026-12-07) those frames are swapped too (before: 5 left as they were, a flash of the
  // original face; fixture 32.1 -> 31.8 dB over the patch). Before lost tracks were taken up
  // again under their id, 17 frames were left.
  EXPECT_LE(left_alone, 1);
  // The swap still changes the uncovered face.
  EXPECT_LT(face_learned.Psnr(), 26.0);
}

}  // namespace
}  // namespace faceswap::test
