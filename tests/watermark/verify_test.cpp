// `faceswap verify` on images: the report, the payload and the exit codes.

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "faceswap/watermark/watermark.h"
#include "watermark_fixtures.h"

namespace fs = std::filesystem;

namespace faceswap::watermark::test {
namespace {

using faceswap::test::MakeTempDir;
using faceswap::test::Quoted;
using faceswap::test::RunCommand;

fs::path WriteMarked(const fs::path& photo, const fs::path& out, std::vector<int> params = {}) {
  cv::Mat image = cv::imread(photo.string(), cv::IMREAD_COLOR);
  Embed(image, SamplePayload());
  cv::imwrite(out.string(), image, params);
  return out;
}

TEST(Verify, ReportsTheMarkOfAMarkedImage) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/lin-manuel-miranda.png");
  const fs::path dir = MakeTempDir("verify_marked");
  const VerifyReport png = Verify(WriteMarked(photo, dir / "marked.png"), 30);
  EXPECT_EQ(png.exit_code, 0) << png.output;
  EXPECT_TRUE(png.marked);
  EXPECT_EQ(png.decoded, 1);
  EXPECT_EQ(png.sampled, 1);
  EXPECT_NE(png.output.find("faceswap 0.1.0, 2025-06-01, model 5eed42"), std::string::npos) << png.output;
  EXPECT_NE(png.output.find("confidence"), std::string::npos) << png.output;
  const VerifyReport jpg = Verify(WriteMarked(photo, dir / "marked.jpg", {cv::IMWRITE_JPEG_QUALITY, 80}), 30);
  EXPECT_EQ(jpg.exit_code, 0) << jpg.output;
}

TEST(Verify, AnUnmarkedFileExits9AndAnUnreadableOne3) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/two_people.jpg");
  const fs::path dir = MakeTempDir("verify_exit_codes");
  const VerifyReport plain = Verify(photo, 30);
  EXPECT_EQ(plain.exit_code, 10) << plain.output;
  EXPECT_NE(plain.output.find("no faceswap watermark found in 1 sampled frames"), std::string::npos) << plain.output;

  // Several files: every one is reported; one without the mark makes it 9.
  const fs::path marked = WriteMarked(photo, dir / "marked.png");
  const auto both = RunCommand(Quoted(faceswap::test::FaceswapBinary()) + " verify " + Quoted(marked) + " " + Quoted(photo));
  EXPECT_EQ(both.exit_code, 10) << both.output;
  EXPECT_NE(both.output.find("marked.png: marked"), std::string::npos) << both.output;
  EXPECT_NE(both.output.find("1 of 2 files carry no faceswap watermark"), std::string::npos) << both.output;

  // A missing file and a file that is not media: 3, naming the file; the others still reported.
  { std::ofstream(dir / "notes.txt") << "not a picture\n"; }
  const auto broken = RunCommand(Quoted(faceswap::test::FaceswapBinary()) + " verify " + Quoted(dir / "missing.mp4") +
                                 " " + Quoted(dir / "notes.txt") + " " + Quoted(marked));
  EXPECT_EQ(broken.exit_code, 3) << broken.output;
  EXPECT_NE(broken.output.find("missing.mp4"), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("notes.txt"), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("marked.png: marked"), std::string::npos) << broken.output;

  const auto usage = RunCommand(Quoted(faceswap::test::FaceswapBinary()) + " verify --frames -1 " + Quoted(marked));
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
}

}  // namespace
}  // namespace faceswap::watermark::test
