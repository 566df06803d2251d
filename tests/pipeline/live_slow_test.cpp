// `faceswap live` end to end over loopback UDP with real processes: the ffmpeg program
// streams a shared clip in real time (-re) as MPEG-TS, faceswap live swaps it into a second
// UDP stream, and another ffmpeg records what arrives (label slow).

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <unistd.h>

#include <fstream>

#include "e2e_fixtures.h"
#include "network_files.h"
#include "faceswap/video/reader.h"
#include "test_support.h"
#include "video_test_util.h"

namespace fs = std::filesystem;

namespace faceswap::test {
namespace {

// Ports of this process's own (tests may run side by side).
int PortBase() { return 20000 + static_cast<int>(getpid() % 2000) * 10; }

fs::path TwoPeopleClip(const fs::path& dir, double seconds) {
  const auto a = *SampleFile("clips/person_a.mp4", nullptr), b = *SampleFile("clips/person_b.mp4", nullptr);
  const fs::path two = dir / "two.mp4";
  const CommandResult made = RunCommand(
      "ffmpeg -v error -y -i " + a.string() + " -i " + b.string() +
      " -filter_complex '[0:v]scale=-2:480,setsar=1[a];[1:v]scale=-2:480,setsar=1[b];[a][b]hstack' -t " +
      std::to_string(seconds) + " -an -c:v libx264 -crf 14 " + two.string());
  EXPECT_EQ(made.exit_code, 0) << made.output;
  return two;
}

// Person_a | person_b streamed for 10 s; the fixture model's source identity for --to a is
// b: b's half changes, a's does not, the mark reads back and Ctrl-C ends with a summary.
TEST(LiveSlow, StreamOverLoopbackSwapsOnlyTheSourcePersonAndEndsCleanlyOnCtrlC) {
  FACESWAP_REQUIRE_SAMPLE(clip_a, "clips/person_a.mp4");
  FACESWAP_REQUIRE_SAMPLE(clip_b, "clips/person_b.mp4");
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  if (!HaveProgram("ffmpeg")) GTEST_SKIP() << "the ffmpeg program is needed to stream the clip";
  const fs::path model = TrainedLiteModel();
  const fs::path dir = MakeTempDir("live_udp");
  const fs::path two = TwoPeopleClip(dir, 10);
  const std::string in = "udp://127.0.0.1:" + std::to_string(PortBase());
  const std::string out = "udp://127.0.0.1:" + std::to_string(PortBase() + 1);
  const fs::path received = dir / "received.ts", log = dir / "live.log";
  const fs::path script = dir / "run.sh";
  std::ofstream(script) << "ffmpeg -nostdin -v error -y -i '" << out << "' -c copy " << received.string() << " & rec=$!\n"
                        << FaceswapBinary().string() << " live -m " << model.string() << " --to a --crf 14 '" << in
                        << "' '" << out << "?pkt_size=1316' > " << log.string() << " 2>&1 & live=$!\n"
                        << "sleep 4\n"
                        << "ffmpeg -nostdin -v error -re -i " << two.string()
                        << " -c:v libx264 -preset ultrafast -tune zerolatency -crf 14 -g 30 -f mpegts '" << in
                        << "?pkt_size=1316'\n"
                        << "sleep 2; kill -INT $live; wait $live; echo \"live exit $?\"\n"
                        // The recorder may sit in a blocking UDP read that ignores a
                        // polite signal; MPEG-TS stays readable when it is cut short.
                        << "sleep 1; kill -INT $rec\n"
                        << "for i in 1 2 3 4 5 6; do kill -0 $rec 2>/dev/null || break; sleep 0.5; done\n"
                        << "kill -KILL $rec 2>/dev/null; wait $rec; true\n";
  const CommandResult run = RunCommand("bash " + script.string());
  std::ifstream log_file(log);
  const std::string live_log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  ASSERT_NE(run.output.find("live exit 0"), std::string::npos) << run.output << live_log;
  EXPECT_NE(live_log.find("frames in"), std::string::npos) << live_log;
  EXPECT_NE(live_log.find("latency p50"), std::string::npos) << live_log;

  const auto source = DecodeAll(two), got = DecodeAll(received);
  std::printf("%zu of %zu frames arrived\n", got.size(), source.size());
  ASSERT_GE(got.size(), source.size() * 2 / 3) << live_log;
  // Each received frame against the source frame it came from (found by the a half).
  const int half = source.front().cols / 2;
  auto thumb = [&](const cv::Mat& f) {
    cv::Mat t;
    cv::resize(f(cv::Rect(0, 0, half, f.rows)), t, {24, 40}, 0, 0, cv::INTER_AREA);
    return t;
  };
  std::vector<cv::Mat> source_thumbs;
  for (const auto& f : source) source_thumbs.push_back(thumb(f));
  double a_psnr = 0, b_psnr = 0;
  for (const cv::Mat& frame : got) {
    ASSERT_EQ(frame.size(), source.front().size());
    const cv::Mat t = thumb(frame);
    size_t best = 0;
    double best_psnr = -1;
    for (size_t j = 0; j < source_thumbs.size(); ++j) {
      const double p = Psnr(t, source_thumbs[j]);
      if (p > best_psnr) best_psnr = p, best = j;
    }
    const cv::Rect left(0, 0, half, frame.rows), right(half, 0, frame.cols - half, frame.rows);
    a_psnr += Psnr(frame(left), source[best](left));
    b_psnr += Psnr(frame(right), source[best](right));
  }
  a_psnr /= static_cast<double>(got.size());
  b_psnr /= static_cast<double>(got.size());
  std::printf("PSNR against the source: a half (left alone) %.1f dB, b half (swapped) %.1f dB\n", a_psnr, b_psnr);
  EXPECT_GE(a_psnr, 33.0);
  EXPECT_LT(b_psnr, a_psnr - 4.0);

  const CommandResult verified = RunFaceswap("verify " + received.string());
  EXPECT_NE(verified.output.find("marked: faceswap"), std::string::npos) << verified.output;
}

// A file played at its own pace stands in for a camera: it takes the clip's own time, and
// the output has the frames that were not dropped.
TEST(LiveSlow, RealtimeFileTakesItsOwnTimeAndWritesAFile) {
  FACESWAP_REQUIRE_SAMPLE(clip_a, "clips/person_a.mp4");  // for the fixture model
  FACESWAP_REQUIRE_SAMPLE(clip_b, "clips/person_b.mp4");
  const fs::path model = TrainedLiteModel();
  const fs::path dir = MakeTempDir("live_realtime");
  const fs::path cut = dir / "cut.mp4", out = dir / "out.mp4";
  ASSERT_EQ(RunCommand("ffmpeg -v error -y -i " + clip_b.string() + " -t 4 -c copy " + cut.string()).exit_code, 0);
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = RunFaceswap("live -m " + model.string() + " --to a --realtime " + cut.string() + " " + out.string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(seconds, 3.8) << "a 4 s clip played in real time cannot take less";
  int64_t in = -1, written = -1, dropped = -1;
  const size_t at = r.output.find("live: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at, "live: %ld frames in, %ld out, %ld dropped", &in, &written, &dropped), 3)
      << r.output;
  EXPECT_EQ(in, static_cast<int64_t>(DecodeAll(cut).size()));
  EXPECT_EQ(written + dropped, in);
  EXPECT_EQ(static_cast<int64_t>(DecodeAll(out).size()), written);
}

TEST(LiveSlow, SilentInputAndBadArgumentsEndWithAClearMessage) {
  // The fixture model is trained on both shared clips.
  FACESWAP_REQUIRE_SAMPLE(clip_a, "clips/person_a.mp4");
  FACESWAP_REQUIRE_SAMPLE(clip_b, "clips/person_b.mp4");
  const fs::path model = TrainedLiteModel();
  const std::string silent = "udp://127.0.0.1:" + std::to_string(PortBase() + 5);
  const std::string live = FaceswapBinary().string() + " live -m " + model.string();
  const CommandResult quiet = RunCommand(live + " --stall 1 '" + silent + "' /tmp/never.ts");
  EXPECT_EQ(quiet.exit_code, 3) << quiet.output;
  EXPECT_NE(quiet.output.find("nothing arrived"), std::string::npos) << quiet.output;
  EXPECT_FALSE(fs::exists("/tmp/never.ts"));

  const CommandResult one = RunCommand(live + " " + silent);
  EXPECT_EQ(one.exit_code, 2) << one.output;
  const CommandResult paced = RunCommand(live + " --realtime " + silent + " /tmp/never.ts");
  EXPECT_EQ(paced.exit_code, 2) << paced.output;
  EXPECT_NE(paced.output.find("--realtime is for files"), std::string::npos) << paced.output;
}

}  // namespace
}  // namespace faceswap::test
