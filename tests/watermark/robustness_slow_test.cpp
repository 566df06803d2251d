// The acceptance test on the shared clips: frames marked by the module and encoded
// like convert encodes (video::Writer's defaults, libx264 crf 18) keep a mark that
// `faceswap verify` reads in at least 95% of its sampled frames after (a) that encode,
// (b) re-encoding with libx264 crf 28, (c) scaling to half size, (d) cropping 10% off each
// side, (e) stripping all metadata and (f) mirroring (hflip, which verify reports); and
// verify finds no mark in any frame of the unconverted clips or in any shared photo. The
// attacks run through the ffmpeg program.

#include <gtest/gtest.h>

#include <cstdio>

#include "faceswap/video/reader.h"
#include "faceswap/video/writer.h"
#include "faceswap/watermark/watermark.h"
#include "watermark_fixtures.h"

namespace fs = std::filesystem;

namespace faceswap::watermark::test {
namespace {

using faceswap::test::Ffmpeg;
using faceswap::test::MakeTempDir;
using faceswap::test::Quoted;

constexpr double kSeconds = 4.0;  // of each clip: 120 frames, enough for 30 samples

// The first kSeconds of `clip`, every frame marked, encoded with the writer's defaults.
void MarkClip(const fs::path& clip, const fs::path& out) {
  video::ReaderOptions first;
  first.end_seconds = kSeconds;
  video::Reader reader(clip, first);
  video::Writer writer(out, reader.info());
  Embedder embedder(SamplePayload());
  video::Frame frame;
  while (reader.Next(frame)) {
    ASSERT_TRUE(embedder.Embed(frame.bgr));
    writer.Write(frame);
  }
  writer.Finish();
}

void ExpectMarkSurvives(const std::string& who) {
  FACESWAP_REQUIRE_FFMPEG_TOOLS();
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_" + who + ".mp4");
  const fs::path dir = MakeTempDir("watermark_" + who);
  const fs::path marked = dir / "marked.mp4";
  MarkClip(clip, marked);
  const std::string in = "-i " + Quoted(marked) + " ";
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {"default encode", ""},
      {"libx264 crf 28", in + "-c:v libx264 -crf 28 -c:a copy"},
      {"half size", in + "-vf scale=iw/2:ih/2 -c:v libx264 -c:a copy"},
      {"10% cropped off each side", in + "-vf 'crop=trunc(iw*0.4)*2:trunc(ih*0.4)*2' -c:v libx264 -c:a copy"},
      {"metadata stripped", in + "-map_metadata -1 -c copy"},
      {"mirrored", in + "-vf hflip -c:v libx264 -c:a copy"},
  };
  int index = 0;
  for (const auto& [what, arguments] : attacks) {
    fs::path file = marked;
    if (!arguments.empty()) {
      file = dir / ("attack_" + std::to_string(index) + ".mp4");
      Ffmpeg(arguments + " " + Quoted(file));
    }
    ++index;
    const VerifyReport r = Verify(file, 30);
    std::printf("person_%s, %s: mark decodes in %d of %d sampled frames\n", who.c_str(), what.c_str(), r.decoded,
                r.sampled);
    EXPECT_EQ(r.exit_code, 0) << what << "\n" << r.output;
    EXPECT_TRUE(r.marked) << what;
    EXPECT_EQ(r.sampled, 30) << what;
    EXPECT_GE(r.share(), 0.95) << what << "\n" << r.output;
    EXPECT_NE(r.output.find(SamplePayload().Describe()), std::string::npos) << what << "\n" << r.output;
    EXPECT_EQ(r.output.find("mirror image") != std::string::npos, what == "mirrored") << what << "\n" << r.output;
  }
  // (e) really removed the tags: the writer's synthetic tag is gone, the pixels still say it.
  const auto tags = faceswap::test::RunCommand("ffprobe -v error -show_entries format_tags -of default=nw=1 " +
                                               Quoted(dir / "attack_4.mp4"));
  EXPECT_EQ(tags.output.find("synthetic"), std::string::npos) << tags.output;
}

TEST(WatermarkRobustness, PersonA) { ExpectMarkSurvives("a"); }
TEST(WatermarkRobustness, PersonB) { ExpectMarkSurvives("b"); }

// Every frame of both unconverted clips and every shared photo: no mark (exit code 10).
TEST(WatermarkRobustness, NoFalsePositiveInAnyFrameOfTheSharedMedia) {
  std::vector<std::pair<std::string, int>> files = {{"clips/person_a.mp4", 624}, {"clips/person_b.mp4", 710}};
  for (const char* photo : {"two_people.jpg", "obama-1080p.jpg", "lin-manuel-miranda.png", "obama_partial_face.jpg",
                            "32bit.png"}) {
    files.emplace_back(std::string("images/") + photo, 1);
  }
  int frames = 0;
  for (const auto& [relative, count] : files) {
    FACESWAP_REQUIRE_SAMPLE(file, relative);
    const VerifyReport r = Verify(file, 0);
    EXPECT_EQ(r.exit_code, 10) << relative << "\n" << r.output;
    EXPECT_FALSE(r.marked) << relative << "\n" << r.output;
    EXPECT_EQ(r.sampled, count) << relative << ": every frame is looked at";
    frames += r.sampled;
  }
  std::printf("no mark in any of %d frames\n", frames);
}

}  // namespace
}  // namespace faceswap::watermark::test
