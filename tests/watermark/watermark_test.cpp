// Embedding and detection on real photos and frames of the shared clips, with attacks made
// in-process (JPEG, resizing, cropping); the clip-level attacks through H.264 are in
// robustness_slow_test.cpp.

#include "faceswap/watermark/watermark.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <random>
#include <stdexcept>

#include "faceswap/core/error.h"
#include "faceswap/video/reader.h"
#include "watermark_fixtures.h"

namespace faceswap::watermark {
namespace {

namespace fs = std::filesystem;

using faceswap::test::Psnr;
Payload Sample() { return test::SamplePayload(); }

cv::Mat Jpeg(const cv::Mat& image, int quality) {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
  return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

cv::Mat Marked(const cv::Mat& image) {
  cv::Mat marked = image.clone();
  EXPECT_TRUE(Embed(marked, Sample()));
  return marked;
}

// The shared photos (as BGR), or a skip.
std::vector<std::pair<std::string, cv::Mat>> Photos() {
  std::vector<std::pair<std::string, cv::Mat>> photos;
  for (const char* name : {"two_people.jpg", "obama-1080p.jpg", "lin-manuel-miranda.png", "obama_partial_face.jpg", "32bit.png"}) {
    const auto file = faceswap::test::SampleFile(std::string("images/") + name, nullptr);
    if (file) photos.emplace_back(name, cv::imread(file->string(), cv::IMREAD_COLOR));
  }
  return photos;
}

// A few frames of a shared clip, a second apart.
std::vector<cv::Mat> ClipFrames(const fs::path& clip, int count) {
  std::vector<cv::Mat> frames;
  for (int i = 0; i < count; ++i) {
    video::ReaderOptions at;
    at.start_seconds = 0.5 + i;
    video::Reader reader(clip, at);
    video::Frame frame;
    if (reader.Next(frame)) frames.push_back(frame.bgr.clone());
  }
  return frames;
}

#define REQUIRE_PHOTOS(var)                                                  \
  const auto var = Photos();                                                 \
  if (var.size() < 5) GTEST_SKIP() << "shared photos missing (../shared/data/images)"

void ExpectFound(const Detection& d, const std::string& what) {
  EXPECT_TRUE(d.found) << what << ": confidence " << d.confidence << ", sync " << d.sync_score;
  if (d.found) {
    EXPECT_EQ(d.payload, Sample()) << what;
    EXPECT_GT(d.confidence, 0.85) << what;
  }
}

TEST(Embed, ChangesLessThanThePsnrFloorOnPhotosAndClipFrames) {
  REQUIRE_PHOTOS(photos);
  FACESWAP_REQUIRE_SAMPLE(clip_a, "clips/person_a.mp4");
  FACESWAP_REQUIRE_SAMPLE(clip_b, "clips/person_b.mp4");
  std::vector<std::pair<std::string, cv::Mat>> images = photos;
  for (const auto& clip : {clip_a, clip_b}) {
    for (const cv::Mat& f : ClipFrames(clip, 4)) images.emplace_back(clip.filename().string(), f);
  }
  for (const auto& [name, image] : images) {
    const cv::Mat marked = Marked(image);
    const double psnr = Psnr(image, marked);
    // 20 log10(255 / 1.8) = 43.0 dB, more after rounding to whole grey levels and where
    // the picture is near black or white.
    EXPECT_GE(psnr, 43.0) << name;
    EXPECT_LT(psnr, 48.0) << name << ": the mark is there";
  }
}

TEST(Embed, MarksStaticAreasAlikeInEveryFrameAndLessNearBlack) {
  // Left half flat mid-grey, right half a texture that changes from frame to frame: the
  // flat half's change has the strength's RMS (up to rounding to whole grey levels) and is
  // the same in both frames (the encoder can predict it), whatever the other half does.
  auto frame = [](int seed) {
    cv::Mat image(512, 1024, CV_8UC3, cv::Scalar::all(128)), texture(512, 512, CV_8UC1);
    cv::RNG(seed).fill(texture, cv::RNG::UNIFORM, 28, 228);
    cv::cvtColor(texture, image(cv::Rect(512, 0, 512, 512)), cv::COLOR_GRAY2BGR);
    return image;
  };
  const cv::Mat first = frame(1), second = frame(2);
  const cv::Mat first_marked = Marked(first), second_marked = Marked(second);
  const cv::Rect flat(0, 0, 480, 512);  // away from the border, where gains interpolate
  const double rms = std::sqrt(cv::norm(first(flat), first_marked(flat), cv::NORM_L2SQR) / (3.0 * flat.area()));
  const double strength = EmbedOptions{}.strength;
  EXPECT_NEAR(rms, strength, 0.15 * strength);
  EXPECT_EQ(cv::norm(first_marked(flat), second_marked(flat), cv::NORM_INF), 0);
  // Near black the mark would clip: it is much fainter there.
  cv::Mat dark(512, 512, CV_8UC3, cv::Scalar::all(8));
  const cv::Mat dark_marked = Marked(dark);
  EXPECT_LT(std::sqrt(cv::norm(dark, dark_marked, cv::NORM_L2SQR) / (3.0 * dark.total())), 0.5 * strength);
}

TEST(Embed, ChangesOnlyLuma) {
  // The same change in B, G and R: brightness only, no colour (except where a channel clips).
  FACESWAP_REQUIRE_SAMPLE(photo, "images/two_people.jpg");
  const cv::Mat image = cv::imread(photo.string());
  const cv::Mat marked = Marked(image);
  int checked = 0, differ = 0;
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      const cv::Vec3b a = image.at<cv::Vec3b>(y, x), b = marked.at<cv::Vec3b>(y, x);
      bool clipped = false;
      for (int c = 0; c < 3; ++c) clipped |= b[c] == 0 || b[c] == 255;
      if (clipped) continue;
      ++checked;
      const int d = b[0] - a[0];
      differ += (b[1] - a[1]) != d || (b[2] - a[2]) != d;
    }
  }
  EXPECT_GT(checked, static_cast<int>(image.total() / 2));
  EXPECT_EQ(differ, 0);
}

TEST(Embed, LeavesTooSmallFramesAloneAndRefusesOtherTypes) {
  cv::Mat small(100, 200, CV_8UC3, cv::Scalar(90, 120, 150));
  const cv::Mat before = small.clone();
  EXPECT_FALSE(Embed(small, Sample()));
  EXPECT_EQ(cv::norm(small, before, cv::NORM_INF), 0);
  cv::Mat gray(512, 512, CV_8UC1, cv::Scalar(128));
  EXPECT_THROW(Embed(gray, Sample()), std::invalid_argument);
}

TEST(Embed, AnEmbedderMarksFramesOfChangingSizesLikeSingleCalls) {
  REQUIRE_PHOTOS(photos);
  Embedder embedder(Sample());
  for (const auto& [name, image] : photos) {
    cv::Mat once = image.clone(), reused = image.clone();
    Embed(once, Sample());
    embedder.Embed(reused);
    EXPECT_EQ(cv::norm(once, reused, cv::NORM_INF), 0) << name;
  }
}

TEST(Embed, InLumaMakesTheLumaChangeOfEmbed) {
  // convert marks frames it encodes from their 4:2:0 picture in that picture's Y plane: the
  // result must be what marking the BGR frame and converting it gives (OpenCV's I420 is
  // BT.601 limited range, as the shared clips are), and it must read as marked.
  FACESWAP_REQUIRE_SAMPLE(clip_b, "clips/person_b.mp4");
  Embedder embedder(Sample());
  for (const cv::Mat& frame : ClipFrames(clip_b, 3)) {
    cv::Mat marked = frame.clone(), marked_i420, i420;
    embedder.Embed(marked);
    cv::cvtColor(marked, marked_i420, cv::COLOR_BGR2YUV_I420);
    cv::cvtColor(frame, i420, cv::COLOR_BGR2YUV_I420);
    cv::Mat luma = i420.rowRange(0, frame.rows);
    ASSERT_TRUE(embedder.EmbedInLuma(frame, luma));
    cv::Mat diff;
    cv::absdiff(luma, marked_i420.rowRange(0, frame.rows), diff);
    // Two roundings (of the change, and of the converted pixel) differ by at most 1, except
    // where Embed clipped a channel at 0 or 255 (which also moves that pixel's chroma).
    EXPECT_GT(cv::countNonZero(diff <= 1), static_cast<int>(0.995 * frame.total()));
    EXPECT_GT(cv::countNonZero(diff == 0), static_cast<int>(0.6 * frame.total()));
    cv::Mat chroma_diff;
    cv::absdiff(i420.rowRange(frame.rows, i420.rows), marked_i420.rowRange(frame.rows, i420.rows), chroma_diff);
    EXPECT_GT(cv::countNonZero(chroma_diff == 0), static_cast<int>(0.995 * chroma_diff.total()));
    cv::Mat back;
    cv::cvtColor(i420, back, cv::COLOR_YUV2BGR_I420);
    ExpectFound(Detect(back), "luma-marked frame");
  }
  cv::Mat small(100, 200, CV_8UC3, cv::Scalar(90, 120, 150)), small_luma(100, 200, CV_8UC1, cv::Scalar(100));
  EXPECT_FALSE(embedder.EmbedInLuma(small, small_luma));
  cv::Mat wrong(50, 50, CV_8UC1);
  EXPECT_THROW(embedder.EmbedInLuma(ClipFrames(clip_b, 1).front(), wrong), std::invalid_argument);
}

TEST(Embed, OptionsAreChecked) {
  EmbedOptions o;
  EXPECT_NO_THROW(o.Check());
  o.strength = 0;
  EXPECT_THROW(o.Check(), UsageError);
  o.strength = 9;
  EXPECT_THROW(o.Check(), UsageError);
  o.strength = 4;
  EXPECT_NO_THROW(o.Check());
  DetectOptions d;
  EXPECT_NO_THROW(d.Check());
  d.min_relative_tile = 2;
  EXPECT_THROW(d.Check(), UsageError);
}

TEST(Detect, ReadsThePayloadFromEveryMarkedPhoto) {
  REQUIRE_PHOTOS(photos);
  for (const auto& [name, image] : photos) {
    const Detection d = Detect(Marked(image));
    ExpectFound(d, name);
    EXPECT_NEAR(d.relative_tile, 1.0, 0.01) << name;
  }
}

TEST(Detect, SurvivesJpegResizingAndCropping) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const cv::Mat marked = Marked(cv::imread(photo.string()));
  ExpectFound(Detect(Jpeg(marked, 75)), "jpeg 75");
  cv::Mat half, third;
  cv::resize(marked, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  ExpectFound(Detect(half), "half size");
  ExpectFound(Detect(Jpeg(half, 85)), "half size, jpeg 85");
  cv::resize(marked, third, cv::Size(), 1.0 / 3, 1.0 / 3, cv::INTER_AREA);
  ExpectFound(Detect(third), "a third");
  const cv::Rect crop(marked.cols / 10, marked.rows / 10, marked.cols * 8 / 10, marked.rows * 8 / 10);
  const Detection cropped = Detect(marked(crop).clone());
  ExpectFound(cropped, "10% cropped off each side");
  EXPECT_NEAR(cropped.relative_tile, 1.25, 0.01);
  ExpectFound(Detect(Jpeg(marked(crop).clone(), 85)), "cropped, jpeg 85");
  const cv::Rect corner(37, 0, marked.cols * 7 / 10, marked.rows * 9 / 10);  // off-centre, uneven
  ExpectFound(Detect(marked(corner).clone()), "uneven crop");
}

TEST(Detect, ReadsMirroredCopiesAndSaysTheyAreMirrored) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const cv::Mat marked = Marked(cv::imread(photo.string()));
  EXPECT_FALSE(Detect(marked).mirrored);
  cv::Mat mirrored, small;
  cv::flip(marked, mirrored, 1);
  const Detection d = Detect(mirrored);
  ExpectFound(d, "mirrored");
  EXPECT_TRUE(d.mirrored);
  cv::resize(mirrored, small, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  const Detection after = Detect(Jpeg(small, 85));
  ExpectFound(after, "mirrored, half size, jpeg 85");
  EXPECT_TRUE(after.mirrored);
  // Upside down is not a mirror image: not read.
  cv::Mat upside_down;
  cv::flip(marked, upside_down, 0);
  EXPECT_FALSE(Detect(upside_down).found);
}

TEST(Detect, FindsNothingInUnmarkedPicturesAndNoise) {
  REQUIRE_PHOTOS(photos);
  Detector detector;
  for (const auto& [name, image] : photos) EXPECT_FALSE(detector.Detect(image).found) << name;
  std::mt19937 rng(11);
  for (int i = 0; i < 10; ++i) {
    cv::Mat noise(540 + 37 * i, 960 - 41 * i, CV_8UC3);
    cv::randu(noise, 0, 256);
    EXPECT_FALSE(detector.Detect(noise).found) << "noise " << i;
  }
  cv::Mat flat(720, 1280, CV_8UC3, cv::Scalar(128, 128, 128));
  EXPECT_FALSE(detector.Detect(flat).found);
  cv::Mat tiny(40, 40, CV_8UC3, cv::Scalar(0));
  EXPECT_FALSE(detector.Detect(tiny).found);
}

TEST(Detect, AnotherPayloadReadsAsItself) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/two_people.jpg");
  Payload other = Sample();
  other.model = 0x000001;
  other.days = 1;
  cv::Mat marked = cv::imread(photo.string());
  Embed(marked, other);
  const Detection d = Detect(marked);
  ASSERT_TRUE(d.found);
  EXPECT_EQ(d.payload, other);
}

TEST(Vote, DecidesOnFramesThatFailAlone) {
  // A weak mark under noise, on changing pictures (the shared photos and their mirror
  // images, as a clip's content changes): single frames fail, their vote does not.
  REQUIRE_PHOTOS(photos);
  std::vector<cv::Mat> scenes;
  for (const auto& [name, image] : photos) {
    cv::Mat scene, mirrored;
    cv::resize(image, scene, cv::Size(960, 540), 0, 0, cv::INTER_AREA);
    cv::flip(scene, mirrored, 1);
    scenes.push_back(scene);
    scenes.push_back(mirrored);
  }
  EmbedOptions weak;
  weak.strength = 0.5;
  Detector detector;
  int alone = 0;
  for (const cv::Mat& scene : scenes) {
    cv::Mat marked = scene.clone(), noisy, noise(scene.size(), CV_16SC3);
    Embed(marked, Sample(), weak);
    cv::randn(noise, 0, 8);
    marked.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(noisy, CV_8UC3);
    alone += detector.Add(noisy).found;
  }
  EXPECT_LE(alone, 2);
  const Detection vote = detector.Vote();
  ExpectFound(vote, "vote of 10 frames");
  EXPECT_EQ(vote.frames, 10);
  EXPECT_THROW(detector.Add(scenes[0](cv::Rect(0, 0, 500, 500)).clone()), std::invalid_argument);
  EXPECT_FALSE(Detector().Vote().found);
}

}  // namespace
}  // namespace faceswap::watermark
