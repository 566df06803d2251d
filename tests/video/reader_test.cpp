#include "faceswap/video/reader.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <fstream>
#include <iostream>

#include "faceswap/core/error.h"
#include "video_test_util.h"

namespace fs = std::filesystem;
using faceswap::InputError;
using faceswap::video::Frame;
using faceswap::video::Reader;
using faceswap::video::ReaderOptions;

namespace faceswap::test {
namespace {

struct DecodeSummary {
  int64_t frames = 0;
  bool timestamps_increase = true;
  bool sizes_match = true;
  Frame first;
};

DecodeSummary DecodeAll(Reader& reader) {
  DecodeSummary summary;
  Frame frame;
  int64_t last_pts = 0;
  double last_seconds = -1;
  while (reader.Next(frame)) {
    if (summary.frames == 0) {
      summary.first.bgr = frame.bgr.clone();
      summary.first.pts = frame.pts;
      summary.first.seconds = frame.seconds;
    } else if (frame.pts <= last_pts || frame.seconds <= last_seconds) {
      summary.timestamps_increase = false;
    }
    if (frame.bgr.cols != reader.info().width || frame.bgr.rows != reader.info().height ||
        frame.bgr.type() != CV_8UC3 || frame.index != summary.frames) {
      summary.sizes_match = false;
    }
    last_pts = frame.pts;
    last_seconds = frame.seconds;
    ++summary.frames;
  }
  return summary;
}

void ExpectFrameCountMatchesFfprobe(const fs::path& clip, int width, int height) {
  Reader reader(clip);
  EXPECT_EQ(reader.info().width, width);
  EXPECT_EQ(reader.info().height, height);
  EXPECT_EQ(reader.info().frame_rate.num, 30);
  EXPECT_EQ(reader.info().frame_rate.den, 1);
  EXPECT_TRUE(reader.info().has_audio);
  EXPECT_EQ(reader.info().audio_codec, "aac");
  EXPECT_EQ(reader.info().video_codec, "h264");
  const DecodeSummary summary = DecodeAll(reader);
  EXPECT_EQ(summary.frames, CountFramesWithFfprobe(clip));
  EXPECT_TRUE(summary.timestamps_increase);
  EXPECT_TRUE(summary.sizes_match);
  EXPECT_FALSE(reader.broken()) << reader.break_message();
  EXPECT_EQ(summary.first.seconds, 0.0);
}

TEST(Reader, PersonAFrameCountEqualsFfprobe) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  ExpectFrameCountMatchesFfprobe(clip, 576, 1024);
}

TEST(Reader, PersonBFrameCountEqualsFfprobe) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  ExpectFrameCountMatchesFfprobe(clip, 540, 960);
}

TEST(Reader, FirstFrameMatchesFfmpegDecode) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path dir = MakeTempDir("reader_first_frame");
  Ffmpeg("-i " + Quoted(clip) + " -frames:v 1 -pix_fmt bgr24 -f rawvideo " + Quoted(dir / "f.bgr"));
  std::ifstream raw(dir / "f.bgr", std::ios::binary);
  cv::Mat reference(960, 540, CV_8UC3);
  raw.read(reinterpret_cast<char*>(reference.data), static_cast<std::streamsize>(reference.total() * 3));
  ASSERT_TRUE(raw);
  Reader reader(clip);
  Frame frame;
  ASSERT_TRUE(reader.Next(frame));
  // Different chroma interpolation and rounding, same picture and same colours.
  EXPECT_GT(Psnr(frame.bgr, reference), 35.0);
}

TEST(Reader, SeeksToStartAndStopsBeforeEnd) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  ReaderOptions options;
  options.start_seconds = 5.0;
  options.end_seconds = 6.0;
  Reader reader(clip, options);
  EXPECT_EQ(reader.info().frame_count, 30);
  const DecodeSummary summary = DecodeAll(reader);
  EXPECT_EQ(summary.frames, 30);
  EXPECT_NEAR(summary.first.seconds, 5.0, 1e-6);
  EXPECT_TRUE(summary.timestamps_increase);
  EXPECT_FALSE(reader.broken());

  // The seeked frame is the same picture as frame 150 read from the start.
  Reader from_start(clip);
  Frame frame;
  for (int i = 0; i <= 150; ++i) ASSERT_TRUE(from_start.Next(frame));
  EXPECT_NEAR(frame.seconds, 5.0, 1e-6);
  EXPECT_EQ(Psnr(frame.bgr, summary.first.bgr), 99.0);
}

TEST(Reader, RejectsBadRanges) {
  ReaderOptions options;
  options.start_seconds = -1;
  EXPECT_THROW(options.Check(), UsageError);
  options.start_seconds = 3;
  options.end_seconds = 2;
  EXPECT_THROW(options.Check(), UsageError);
}

TEST(Reader, RotatedClipComesOutUpright) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path dir = MakeTempDir("reader_rotation");
  const fs::path rotated = dir / "rotated.mp4";
  // Stream copy: the pixels stay as stored, only a display matrix is added. ffmpeg 6.0 and
  // later (Debian 13) set it with -display_rotation and ignore the legacy rotate tag;
  // ffmpeg 5.1 (Debian 12) has no -display_rotation, and its mov muxer turns the tag into
  // the matrix. Both give the same matrix (ffprobe: rotation=90).
  const std::string cut = " -t 1 -c copy ";
  if (RunCommand("ffmpeg -nostdin -v error -y -display_rotation 90 -i " + Quoted(clip) + cut + Quoted(rotated))
          .exit_code != 0) {
    Ffmpeg("-i " + Quoted(clip) + cut + "-metadata:s:v:0 rotate=90 " + Quoted(rotated));
  }
  ASSERT_NE(Ffprobe("-show_entries stream_side_data=rotation -of csv=p=0", rotated).find("90"),
            std::string::npos)
      << "the test clip carries no rotation; cannot test rotation";
  // The reference: ffmpeg's own autorotation (on by default) of the first frame.
  Ffmpeg("-i " + Quoted(rotated) + " -frames:v 1 " + Quoted(dir / "upright.png"));

  Reader reader(rotated);
  // ffmpeg 5.1's muxer stores rotate=90 as a matrix that ffmpeg itself undoes by turning
  // 90 degrees counter-clockwise, i.e. 270 clockwise; the reference frame below decides.
  EXPECT_EQ(reader.info().rotation_degrees, 270);
  EXPECT_EQ(reader.info().width, 960);
  EXPECT_EQ(reader.info().height, 540);
  Frame frame;
  ASSERT_TRUE(reader.Next(frame));
  ASSERT_EQ(frame.bgr.cols, 960);
  ASSERT_EQ(frame.bgr.rows, 540);

  Reader reference_reader(dir / "upright.png");
  Frame reference;
  ASSERT_TRUE(reference_reader.Next(reference));
  ASSERT_EQ(reference.bgr.size(), frame.bgr.size());
  EXPECT_GT(Psnr(frame.bgr, reference.bgr), 35.0);
  // And it is not merely any picture: turned the other way it no longer matches.
  cv::Mat wrong_way;
  cv::rotate(frame.bgr, wrong_way, cv::ROTATE_180);
  EXPECT_LT(Psnr(wrong_way, reference.bgr), 25.0);
}

TEST(Reader, TruncatedClipDecodesWhatIsThereThenReportsTheBreak) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a_truncated.mp4");
  Reader reader(clip);
  EXPECT_EQ(reader.info().frame_count, 1544);  // what the index claims
  const DecodeSummary summary = DecodeAll(reader);
  EXPECT_GE(summary.frames, 624);
  EXPECT_LE(summary.frames, 626);
  EXPECT_TRUE(summary.timestamps_increase);
  ASSERT_TRUE(reader.broken());
  const std::string& message = reader.break_message();
  std::cout << "break message: " << message << "\n";
  EXPECT_NE(message.find("person_a_truncated.mp4"), std::string::npos) << message;
  EXPECT_NE(message.find("after frame " + std::to_string(summary.frames - 1)), std::string::npos)
      << message;
  Frame frame;
  EXPECT_FALSE(reader.Next(frame));  // stays ended
}

TEST(Reader, CopyCutAt40PercentFailsOrWarnsClearly) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = MakeTempDir("reader_cut");
  const fs::path cut = dir / "cut.mp4";
  {
    std::ifstream in(clip, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes.resize(bytes.size() * 4 / 10);
    std::ofstream(cut, std::ios::binary) << bytes;
  }
  try {
    Reader reader(cut);
    const DecodeSummary summary = DecodeAll(reader);
    EXPECT_LT(summary.frames, 624);
    ASSERT_TRUE(reader.broken()) << "a file cut at 40% decoded without a warning";
    std::cout << "decoded " << summary.frames << " frames; " << reader.break_message() << "\n";
    EXPECT_NE(reader.break_message().find(cut.string()), std::string::npos);
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(cut.string()), std::string::npos) << error.what();
  }
}

TEST(Reader, TextFileNamedMp4IsAnInputError) {
  const fs::path dir = MakeTempDir("reader_text");
  const fs::path fake = dir / "notes.mp4";
  std::ofstream(fake) << "These are meeting notes, not a video.\nSecond line.\n";
  try {
    Reader reader(fake);
    FAIL() << "a text file opened as a video";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind(fake.string() + ": ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(Reader, MissingFileIsAnInputError) {
  const fs::path missing = MakeTempDir("reader_missing") / "nothing.mp4";
  try {
    Reader reader(missing);
    FAIL();
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), missing.string() + ": no such file or folder");
  }
}

TEST(Reader, AudioOnlyFileHasNoVideoStream) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path audio = MakeTempDir("reader_audio_only") / "sound.m4a";
  Ffmpeg("-i " + Quoted(clip) + " -t 1 -vn -c:a copy " + Quoted(audio));
  try {
    Reader reader(audio);
    FAIL();
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), audio.string() + ": no video stream");
  }
}

TEST(Reader, RgbaPngBecomesBgr) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(png, "images/32bit.png");
  ASSERT_EQ(Ffprobe("-show_entries stream=pix_fmt -of csv=p=0", png), "rgba");
  const fs::path dir = MakeTempDir("reader_rgba");
  Ffmpeg("-i " + Quoted(png) + " -pix_fmt bgr24 -f rawvideo " + Quoted(dir / "ref.bgr"));
  Reader reader(png);
  EXPECT_TRUE(reader.info().is_image_input);
  EXPECT_EQ(reader.info().frame_count, 1);
  Frame frame;
  ASSERT_TRUE(reader.Next(frame));
  ASSERT_EQ(frame.bgr.type(), CV_8UC3);
  cv::Mat reference(frame.bgr.rows, frame.bgr.cols, CV_8UC3);
  std::ifstream raw(dir / "ref.bgr", std::ios::binary);
  raw.read(reinterpret_cast<char*>(reference.data), static_cast<std::streamsize>(reference.total() * 3));
  ASSERT_TRUE(raw) << "reference size differs from the reader's " << frame.bgr.cols << "x"
                   << frame.bgr.rows;
  EXPECT_EQ(cv::norm(frame.bgr, reference, cv::NORM_INF), 0.0);  // dropping alpha is exact
  EXPECT_FALSE(reader.Next(frame));
  EXPECT_FALSE(reader.broken());
}

TEST(Reader, JpegImage) {
  FACESWAP_REQUIRE_SAMPLE(jpg, "images/obama-1080p.jpg");
  Reader reader(jpg);
  EXPECT_EQ(reader.info().width, 1920);
  EXPECT_EQ(reader.info().height, 1080);
  Frame frame;
  ASSERT_TRUE(reader.Next(frame));
  EXPECT_EQ(frame.bgr.cols, 1920);
  EXPECT_GT(cv::mean(frame.bgr)[0], 1.0);  // not a black picture
}

TEST(Reader, ImageFolderInNaturalOrder) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  const fs::path dir = MakeTempDir("reader_folder");
  // Plain sorting would give 1, 10, 2; natural order is 1, 2, 10.
  const std::pair<const char*, const char*> images[] = {
      {"1.png", "red"}, {"2.png", "lime"}, {"10.png", "blue"}};
  for (const auto& [name, colour] : images) {
    Ffmpeg(std::string("-f lavfi -i color=c=") + colour + ":s=32x24 -frames:v 1 " + Quoted(dir / name));
  }
  std::ofstream(dir / "readme.txt") << "not an image";
  Reader reader(dir);
  EXPECT_EQ(reader.info().frame_count, 3);
  EXPECT_EQ(reader.info().width, 32);
  EXPECT_EQ(reader.info().height, 24);
  const cv::Vec3b expected[] = {{0, 0, 255}, {0, 255, 0}, {255, 0, 0}};  // BGR
  Frame frame;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader.Next(frame)) << i;
    EXPECT_EQ(frame.index, i);
    // The colour source is YUV, so its PNGs are off by a unit or two from pure colours.
    EXPECT_LE(cv::norm(cv::Vec3d(frame.bgr.at<cv::Vec3b>(10, 10)) - cv::Vec3d(expected[i])), 4.0)
        << "image " << i << ": " << frame.bgr.at<cv::Vec3b>(10, 10);
  }
  EXPECT_FALSE(reader.Next(frame));
  EXPECT_FALSE(reader.broken());
}

TEST(Reader, EmptyFolderIsAnInputError) {
  const fs::path dir = MakeTempDir("reader_empty_folder");
  EXPECT_THROW(Reader reader(dir), InputError);
}

TEST(Reader, ReusesTheCallersBufferButNeverOneStillShared) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  ReaderOptions options;
  options.end_seconds = 0.2;
  Reader reader(clip, options);
  Frame frame;
  ASSERT_TRUE(reader.Next(frame));
  const uchar* first_buffer = frame.bgr.data;
  ASSERT_TRUE(reader.Next(frame));
  EXPECT_EQ(frame.bgr.data, first_buffer);  // reused: no per-frame allocation
  const cv::Mat kept = frame.bgr;           // a consumer holds on to this frame
  const cv::Mat kept_copy = kept.clone();
  ASSERT_TRUE(reader.Next(frame));
  EXPECT_NE(frame.bgr.data, kept.data);
  EXPECT_EQ(cv::norm(kept, kept_copy, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace faceswap::test
