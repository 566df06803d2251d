#include "faceswap/video/writer.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <fstream>
#include <iterator>
#include <sstream>

#include "faceswap/core/error.h"
#include "faceswap/video/reader.h"
#include "faceswap/video/yuv420.h"
#include "video_test_util.h"

namespace fs = std::filesystem;
using faceswap::video::Frame;
using faceswap::video::MediaInfo;
using faceswap::video::Reader;
using faceswap::video::ReaderOptions;
using faceswap::video::Writer;
using faceswap::video::WriterOptions;

namespace faceswap::test {
namespace {

// Transcodes [start, end) of `source` into `output` with the module; returns frames written.
int64_t Transcode(const fs::path& source, const fs::path& output, const ReaderOptions& read,
                  const WriterOptions& write = {}, std::string* audio_handling = nullptr) {
  Reader reader(source, read);
  Writer writer(output, reader.info(), write);
  Frame frame;
  while (reader.Next(frame)) writer.Write(frame);
  writer.Finish();
  if (audio_handling) *audio_handling = writer.audio_handling();
  return writer.frames_written();
}

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename());
  return files;
}

TEST(Writer, ShortTranscodeKeepsSizeRateAudioAndTag) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path dir = MakeTempDir("writer_short");
  const fs::path out = dir / "out.mp4";
  ReaderOptions read;
  read.end_seconds = 2.0;
  std::string audio;
  EXPECT_EQ(Transcode(clip, out, read, {}, &audio), 60);
  EXPECT_EQ(audio, "copy");
  EXPECT_EQ(Ffprobe("-select_streams v:0 -show_entries stream=codec_name,width,height,avg_frame_rate,pix_fmt -of csv=p=0", out),
            "h264,540,960,yuv420p,30/1");
  EXPECT_EQ(CountFramesWithFfprobe(out), 60);
  EXPECT_EQ(Ffprobe("-select_streams a:0 -show_entries stream=codec_name -of csv=p=0", out), "aac");
  // Audio cut to the video's span: 2 s, within one AAC packet (23 ms).
  EXPECT_NEAR(StreamDurationWithFfprobe(out, "a"), 2.0, 0.05);
  EXPECT_EQ(Ffprobe("-show_entries format_tags=comment -of csv=p=0", out), video::kDefaultSyntheticTag);
  // +faststart: the index (moov) comes before the media data (mdat).
  std::ifstream in(out, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(bytes.find("moov"), std::string::npos);
  EXPECT_LT(bytes.find("moov"), bytes.find("mdat"));
  EXPECT_EQ(FilesIn(dir), std::vector<fs::path>{"out.mp4"});  // no temporary left beside it
}

TEST(Writer, SeekedRangeStartsAtZeroWithMatchingAudio) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path out = MakeTempDir("writer_seeked") / "cut.mkv";
  ReaderOptions read;
  read.start_seconds = 10.0;
  read.end_seconds = 11.5;
  EXPECT_EQ(Transcode(clip, out, read), 45);
  EXPECT_EQ(CountFramesWithFfprobe(out), 45);
  EXPECT_NEAR(std::stod(Ffprobe("-select_streams v:0 -show_entries stream=start_time -of csv=p=0", out)), 0.0, 0.02);
  EXPECT_NEAR(std::stod(Ffprobe("-show_entries format=duration -of csv=p=0", out)), 1.5, 0.06);
  // The first frame written is the source's frame at 10 s.
  Reader source(clip, read), written(out);
  Frame a, b;
  ASSERT_TRUE(source.Next(a));
  ASSERT_TRUE(written.Next(b));
  EXPECT_GT(Psnr(a.bgr, b.bgr), 38.0);
}

TEST(Writer, KeepsVariableFrameTiming) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  const fs::path out = MakeTempDir("writer_vfr") / "vfr.mkv";
  MediaInfo info;
  info.width = 64;
  info.height = 48;
  info.time_base = {1, 1000};
  info.frame_rate = {30, 1};
  const int64_t pts[] = {0, 33, 66, 500, 533, 1200};  // gaps a constant rate cannot express
  {
    Writer writer(out, info);
    Frame frame;
    frame.bgr = cv::Mat(48, 64, CV_8UC3);
    for (int64_t t : pts) {
      frame.bgr.setTo(cv::Scalar(static_cast<double>(t % 255), 80, 160));
      frame.pts = t;
      frame.seconds = t / 1000.0;
      writer.Write(frame);
    }
    writer.Finish();
  }
  std::stringstream expected;
  for (int64_t t : pts) expected << t / 1000.0 << "\n";
  std::stringstream got;
  for (std::istringstream lines(Ffprobe("-select_streams v:0 -show_entries frame=pts_time -of csv=p=0", out));;) {
    std::string line;
    if (!std::getline(lines, line)) break;
    if (line.empty()) continue;  // ffprobe prints blank lines for frame side data
    got << std::stod(line) << "\n";
  }
  EXPECT_EQ(got.str(), expected.str());
}

TEST(Writer, ReencodesAudioTheContainerCannotHold) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path dir = MakeTempDir("writer_pcm");
  const fs::path pcm_source = dir / "pcm.mkv";
  Ffmpeg("-i " + Quoted(clip) + " -t 1.5 -c:v copy -c:a pcm_s16le " + Quoted(pcm_source));
  ASSERT_EQ(Ffprobe("-select_streams a:0 -show_entries stream=codec_name -of csv=p=0", pcm_source), "pcm_s16le");
  const fs::path out = dir / "out.mp4";
  std::string audio;
  Transcode(pcm_source, out, {}, {}, &audio);
  EXPECT_EQ(audio, "aac");
  EXPECT_EQ(Ffprobe("-select_streams a:0 -show_entries stream=codec_name -of csv=p=0", out), "aac");
  // Matroska stores no per-stream duration: the 1.5 s cut is the reference.
  EXPECT_NEAR(StreamDurationWithFfprobe(out, "a"), 1.5, 0.05);
  // The sound is really there, not silence: measure its loudness with ffmpeg's volumedetect.
  const auto volume = RunCommand("ffmpeg -nostdin -i " + Quoted(out) + " -map 0:a -af volumedetect -f null - 2>&1");
  const auto at = volume.output.find("mean_volume: ");
  ASSERT_NE(at, std::string::npos) << volume.output;
  EXPECT_GT(std::stod(volume.output.substr(at + 13)), -60.0);
}

TEST(Writer, OddSizesBecomeEven) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  const fs::path out = MakeTempDir("writer_odd") / "odd.mp4";
  MediaInfo info;
  info.width = 33;
  info.height = 25;
  info.time_base = {1, 25};
  info.frame_rate = {25, 1};
  Writer writer(out, info);
  EXPECT_EQ(writer.width(), 32);
  EXPECT_EQ(writer.height(), 24);
  Frame frame;
  frame.bgr = cv::Mat(25, 33, CV_8UC3, cv::Scalar(20, 120, 220));
  for (int i = 0; i < 5; ++i) {
    frame.pts = i;
    writer.Write(frame);
  }
  writer.Finish();
  EXPECT_EQ(Ffprobe("-select_streams v:0 -show_entries stream=width,height -of csv=p=0", out), "32,24");
  Reader reader(out);
  Frame back;
  ASSERT_TRUE(reader.Next(back));
  const cv::Scalar mean = cv::mean(back.bgr);
  EXPECT_NEAR(mean[0], 20, 3);
  EXPECT_NEAR(mean[1], 120, 3);
  EXPECT_NEAR(mean[2], 220, 3);
}

TEST(Writer, SyntheticTagIsSettableAndCanBeLeftOut) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  const fs::path dir = MakeTempDir("writer_tag");
  MediaInfo info;
  info.width = 32;
  info.height = 32;
  info.time_base = {1, 25};
  for (const std::string tag : {"made with faceswap for a test", ""}) {
    const fs::path out = dir / (tag.empty() ? "untagged.mkv" : "tagged.mkv");
    WriterOptions options;
    options.synthetic_tag = tag;
    Writer writer(out, info, options);
    Frame frame;
    frame.bgr = cv::Mat(32, 32, CV_8UC3, cv::Scalar::all(90));
    writer.Write(frame);
    writer.Finish();
    EXPECT_EQ(Ffprobe("-show_entries format_tags=comment -of csv=p=0", out), tag);
  }
}

TEST(Writer, UnknownCodecIsAUsageErrorAndLeavesNothing) {
  const fs::path dir = MakeTempDir("writer_bad_codec");
  MediaInfo info;
  info.width = 32;
  info.height = 32;
  info.time_base = {1, 25};
  WriterOptions options;
  options.codec = "libx999";
  try {
    Writer writer(dir / "out.mp4", info, options);
    FAIL();
  } catch (const UsageError& error) {
    EXPECT_NE(std::string(error.what()).find("libx999"), std::string::npos) << error.what();
  }
  options.codec = "libx264";
  options.preset = "warp-speed";
  EXPECT_THROW(Writer(dir / "out.mp4", info, options), UsageError);
  options.preset = "medium";
  options.crf = 99;
  EXPECT_THROW(options.Check(), UsageError);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Writer, UnwritableOutputIsAnOutputError) {
  const fs::path dir = MakeTempDir("writer_unwritable");
  MediaInfo info;
  info.width = 32;
  info.height = 32;
  info.time_base = {1, 25};
  const fs::path in_missing_folder = dir / "no" / "such" / "folder" / "out.mp4";
  try {
    Writer writer(in_missing_folder, info);
    FAIL();
  } catch (const OutputError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(in_missing_folder.string() + ": cannot write", 0), 0u) << error.what();
  }
  std::ofstream(dir / "plain_file") << "x";  // a file where a folder should be (root cannot bypass this)
  EXPECT_THROW(Writer(dir / "plain_file" / "out.mp4", info), OutputError);
  EXPECT_THROW(Writer(dir / "plain_file" / "frames" / "", info), OutputError);
}

TEST(Writer, UnfinishedOrEmptyOutputLeavesNothingBehind) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path dir = MakeTempDir("writer_unfinished");
  ReaderOptions read;
  read.end_seconds = 0.5;
  Reader reader(clip, read);
  {
    Writer writer(dir / "out.mp4", reader.info());
    Frame frame;
    while (reader.Next(frame)) writer.Write(frame);
    EXPECT_FALSE(fs::is_empty(dir));  // the temporary exists while writing...
    // ...and the run "fails" here: no Finish().
  }
  EXPECT_TRUE(fs::is_empty(dir)) << FilesIn(dir).front();
  {
    Writer writer(dir / "frames", reader.info());
    Frame frame;
    frame.bgr = cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(1));
    writer.Write(frame);
  }
  EXPECT_TRUE(fs::is_empty(dir));
  Writer empty(dir / "empty.mp4", reader.info());
  EXPECT_THROW(empty.Finish(), OutputError);
  EXPECT_FALSE(fs::exists(dir / "empty.mp4"));
}

TEST(Writer, KeptYuv420IsEncodedAsDecodedAndChangedRegionsComeOver) {
  // convert's path: frames keep their decoded 4:2:0 picture; only a changed region is
  // converted back from BGR. With x264 lossless (crf 0) the output must hold the source's
  // exact pixels everywhere else, and the change inside the region.
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path dir = MakeTempDir("writer_yuv420");
  ReaderOptions read;
  read.end_seconds = 0.3;
  read.keep_yuv420 = true;
  WriterOptions lossless;
  lossless.crf = 0;
  const cv::Rect painted(101, 57, 90, 61);  // odd corner: grown to even bounds
  std::vector<cv::Mat> sources;
  {
    Reader reader(clip, read);
    Writer writer(dir / "out.mkv", reader.info(), lossless);
    EXPECT_TRUE(writer.encodes_yuv420());
    faceswap::video::Yuv420Converter to_yuv(reader.info().color_space);
    Frame frame;
    while (reader.Next(frame)) {
      ASSERT_FALSE(frame.yuv420.empty()) << "the shared clips are limited-range 4:2:0";
      ASSERT_EQ(frame.yuv420.rows, frame.bgr.rows * 3 / 2);
      sources.push_back(frame.yuv420.clone());
      if (frame.index == 2) {
        frame.bgr(painted).setTo(cv::Scalar(40, 200, 90));
        to_yuv.Convert(frame.bgr, painted, frame.yuv420);
      }
      writer.Write(frame);
    }
    writer.Finish();
  }
  ASSERT_EQ(sources.size(), 9u);
  ReaderOptions back_options;
  back_options.keep_yuv420 = true;
  Reader back(dir / "out.mkv", back_options);
  Frame frame;
  for (size_t i = 0; i < sources.size(); ++i) {
    ASSERT_TRUE(back.Next(frame));
    ASSERT_FALSE(frame.yuv420.empty());
    cv::Mat outside = cv::Mat::ones(frame.bgr.size(), CV_8UC1);
    if (i == 2) {
      // The converter rounds regions up to 32 pixels; beyond that nothing may change.
      cv::Rect grown(painted.x - 40, painted.y - 40, painted.width + 80, painted.height + 80);
      outside(grown).setTo(0);
      const cv::Scalar mean = cv::mean(frame.bgr(painted));
      EXPECT_NEAR(mean[0], 40, 3);
      EXPECT_NEAR(mean[1], 200, 3);
      EXPECT_NEAR(mean[2], 90, 3);
    }
    cv::Mat y_diff;
    cv::absdiff(frame.yuv420.rowRange(0, frame.bgr.rows), sources[i].rowRange(0, frame.bgr.rows), y_diff);
    EXPECT_EQ(cv::countNonZero(y_diff & outside), 0) << "frame " << i << ": luma as decoded";
    if (i != 2) {
      EXPECT_EQ(cv::norm(frame.yuv420, sources[i], cv::NORM_INF), 0.0) << "frame " << i;
    }
  }
  EXPECT_FALSE(back.Next(frame));

  // Image folders write BGR; a reader not asked keeps no 4:2:0 picture.
  Reader plain(clip, ReaderOptions{});
  EXPECT_FALSE(Writer(dir / "frames", plain.info()).encodes_yuv420());
  ASSERT_TRUE(plain.Next(frame));
  EXPECT_TRUE(frame.yuv420.empty());
}

TEST(Writer, ImageFolderOutputRoundTripsExactlyAsPng) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path dir = MakeTempDir("writer_images");
  const fs::path frames = dir / "frames";
  ReaderOptions read;
  read.end_seconds = 0.4;  // 12 frames: also checks that frame_000010 sorts after frame_000009
  std::vector<cv::Mat> originals;
  {
    Reader reader(clip, read);
    Writer writer(frames, reader.info());
    Frame frame;
    while (reader.Next(frame)) {
      originals.push_back(frame.bgr.clone());
      writer.Write(frame);
    }
    writer.Finish();
  }
  ASSERT_EQ(originals.size(), 12u);
  EXPECT_TRUE(fs::exists(frames / "frame_000001.png"));
  EXPECT_TRUE(fs::exists(frames / "frame_000012.png"));
  EXPECT_EQ(FilesIn(dir), std::vector<fs::path>{"frames"});
  Reader back(frames);
  Frame frame;
  for (const cv::Mat& original : originals) {
    ASSERT_TRUE(back.Next(frame));
    EXPECT_EQ(cv::norm(original, frame.bgr, cv::NORM_INF), 0.0) << "frame " << frame.index;
  }
  EXPECT_FALSE(back.Next(frame));

  WriterOptions jpg;
  jpg.image_format = "jpg";
  Reader reader(clip, read);
  Writer writer(dir / "jpgs", reader.info(), jpg);
  ASSERT_TRUE(reader.Next(frame));
  writer.Write(frame);
  writer.Finish();
  Reader jpg_back(dir / "jpgs" / "frame_000001.jpg");
  Frame decoded;
  ASSERT_TRUE(jpg_back.Next(decoded));
  EXPECT_GT(Psnr(decoded.bgr, frame.bgr), 35.0);
}

}  // namespace
}  // namespace faceswap::test
