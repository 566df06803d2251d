// Full-clip decode -> encode (crf 18) round trips of the shared clips: the issue's
// acceptance test for the writer. Slow (x264 medium on whole clips): label `slow`.

#include <gtest/gtest.h>

#include <iostream>

#include "faceswap/video/reader.h"
#include "faceswap/video/writer.h"
#include "video_test_util.h"

namespace fs = std::filesystem;
using faceswap::video::Frame;
using faceswap::video::Reader;
using faceswap::video::Writer;
using faceswap::video::WriterOptions;

namespace faceswap::test {
namespace {

// md5 of the audio stream's packets, as ffmpeg's md5 muxer computes it from a stream copy.
std::string AudioPacketsMd5(const fs::path& file) {
  const auto result = RunCommand("ffmpeg -nostdin -v error -i " + Quoted(file) + " -map 0:a:0 -c copy -f md5 -");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return result.output;
}

void ExpectFaithfulRoundTrip(const fs::path& clip, const std::string& name) {
  const fs::path out = MakeTempDir("round_trip_" + name) / (name + ".mp4");
  WriterOptions options;  // the defaults are what the issue asks: libx264, crf 18, medium
  ASSERT_EQ(options.crf, 18);
  std::string audio_handling;
  {
    Reader reader(clip);
    Writer writer(out, reader.info(), options);
    Frame frame;
    while (reader.Next(frame)) writer.Write(frame);
    ASSERT_FALSE(reader.broken()) << reader.break_message();
    writer.Finish();
    audio_handling = writer.audio_handling();
  }
  const std::string geometry = "-select_streams v:0 -show_entries stream=width,height,avg_frame_rate,r_frame_rate -of csv=p=0";
  EXPECT_EQ(Ffprobe(geometry, out), Ffprobe(geometry, clip));
  EXPECT_EQ(CountFramesWithFfprobe(out), CountFramesWithFfprobe(clip));

  // Picture quality against the decoded source, frame by frame.
  Reader source(clip), written(out);
  Frame a, b;
  double psnr_sum = 0;
  int64_t frames = 0;
  while (source.Next(a)) {
    ASSERT_TRUE(written.Next(b)) << "output ends at frame " << frames;
    EXPECT_EQ(a.pts - source.info().start_pts, b.pts - written.info().start_pts) << "frame " << frames;
    psnr_sum += Psnr(a.bgr, b.bgr);
    ++frames;
  }
  EXPECT_FALSE(written.Next(b));
  const double mean_psnr = psnr_sum / static_cast<double>(frames);
  std::cout << name << ": " << frames << " frames, mean PSNR " << mean_psnr << " dB\n";
  EXPECT_GE(mean_psnr, 40.0);

  // Audio: present, the same codec, copied bit for bit, the same length.
  EXPECT_EQ(audio_handling, "copy");
  const std::string codec = "-select_streams a:0 -show_entries stream=codec_name -of csv=p=0";
  EXPECT_EQ(Ffprobe(codec, out), Ffprobe(codec, clip));
  EXPECT_EQ(AudioPacketsMd5(out), AudioPacketsMd5(clip));
  EXPECT_NEAR(StreamDurationWithFfprobe(out, "a"), StreamDurationWithFfprobe(clip, "a"), 0.05);
}

TEST(RoundTrip, PersonA) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  ExpectFaithfulRoundTrip(clip, "person_a");
}

TEST(RoundTrip, PersonB) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  ExpectFaithfulRoundTrip(clip, "person_b");
}

}  // namespace
}  // namespace faceswap::test
