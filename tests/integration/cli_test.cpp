// Runs the real faceswap binary: help texts, info, exit codes, config files.

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace faceswap::test {
namespace {

std::string Faceswap(const std::string& args) { return FaceswapBinary().string() + " " + args; }

TEST(Cli, HelpListsEverySubcommandAndGlobalOption) {
  const CommandResult r = RunCommand(Faceswap("--help"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* word : {"extract", "train", "convert", "swap", "info", "verify", "--verbose", "--quiet",
                           "--log-file", "--device", "--threads", "--config"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << "missing " << word << " in:\n" << r.output;
  }
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub : {"extract", "train", "convert", "swap", "info", "verify"}) {
    const CommandResult r = RunCommand(Faceswap(std::string(sub) + " --help"));
    EXPECT_EQ(r.exit_code, 0) << sub << ":\n" << r.output;
    EXPECT_NE(r.output.find("Usage"), std::string::npos) << sub << ":\n" << r.output;
  }
}

TEST(Cli, VersionFlag) {
  const CommandResult r = RunCommand(Faceswap("--version"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find('.'), std::string::npos) << r.output;
}

TEST(Cli, InfoPrintsEveryLibraryAndTheDeviceAndLandmarkModel) {
  const CommandResult r = RunCommand(Faceswap("info"));
  for (const char* lib : {"OpenCV", "dlib", "LibTorch", "FFmpeg", "libavcodec", "libavformat", "libswscale",
                          "libswresample", "CLI11", "spdlog", "CUDA usable", "selected"}) {
    EXPECT_NE(r.output.find(lib), std::string::npos) << "missing " << lib << " in:\n" << r.output;
  }
  // Every network file is listed; info fails exactly when one is missing.
  for (const char* file : {"68-point landmarks", "face recognition ResNet", "CNN face detector"}) {
    EXPECT_NE(r.output.find(file), std::string::npos) << "missing " << file << " in:\n" << r.output;
  }
  EXPECT_EQ(r.exit_code, r.output.find("MISSING") == std::string::npos ? 0 : 3) << r.output;
}

TEST(Cli, MissingNetworkFileSaysHowToGetIt) {
  const auto empty = MakeTempDir("no_models");
  const CommandResult r = RunCommand("FACESWAP_MODELS=" + empty.string() + " " + Faceswap("info"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("dlib_face_recognition_resnet_model_v1.dat"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fetch_models.sh"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("http://dlib.net/files/"), std::string::npos) << r.output;
}

TEST(Cli, MissingLandmarkModelIsAnInputErrorNamingThePackage) {
  const CommandResult r = RunCommand(Faceswap("info --landmarks /no/such/model.dat"));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("/no/such/model.dat"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("libdlib-data"), std::string::npos) << r.output;
}

TEST(Cli, UnknownOptionIsAUsageError) {
  const CommandResult r = RunCommand(Faceswap("info --no-such-flag"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const CommandResult none = RunCommand(Faceswap(""));
  EXPECT_EQ(none.exit_code, 2) << none.output;
  const CommandResult device = RunCommand(Faceswap("--device tpu info"));
  EXPECT_EQ(device.exit_code, 2) << device.output;
}

TEST(Cli, CudaRequestedWithoutCudaIsADeviceError) {
  const CommandResult probe = RunCommand(Faceswap("info"));
  if (probe.output.find("CUDA usable    yes") != std::string::npos) GTEST_SKIP() << "CUDA is usable here";
  const CommandResult r = RunCommand(Faceswap("--device cuda info"));
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_NE(r.output.find("CUDA"), std::string::npos) << r.output;
}

TEST(Cli, ConfigFileSuppliesOptions) {
  const auto dir = MakeTempDir("cli_config");
  const auto config = dir / "faceswap.toml";
  std::ofstream(config) << "device = \"cuda\"\n";
  const CommandResult probe = RunCommand(Faceswap("info"));
  if (probe.output.find("CUDA usable    yes") != std::string::npos) GTEST_SKIP() << "CUDA is usable here";
  // The config asks for CUDA, which this machine lacks: the device error proves it was read.
  const CommandResult r = RunCommand(Faceswap("--config " + config.string() + " info"));
  EXPECT_EQ(r.exit_code, 6) << r.output;
  const CommandResult missing = RunCommand(Faceswap("--config " + (dir / "nope.toml").string() + " info"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

TEST(Cli, UnwritableLogFileIsAnOutputError) {
  const CommandResult r = RunCommand(Faceswap("--log-file /no/such/dir/log.txt info"));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("/no/such/dir/log.txt"), std::string::npos) << r.output;
}

TEST(Cli, LogFileReceivesTheLog) {
  const auto dir = MakeTempDir("cli_log");
  const auto log = dir / "run.log";
  RunCommand(Faceswap("--log-file " + log.string() + " info --landmarks /no/such.dat"));
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("/no/such.dat"), std::string::npos) << text;
}

// --no-watermark is refused before anything is read unless acknowledged, and only video
// outputs (whose comment tag then says so) may go unmarked.
TEST(CliConvert, NoWatermarkNeedsItsAcknowledgementAndAVideoOutput) {
  const auto dir = MakeTempDir("cli_no_watermark");
  { std::ofstream(dir / "in.png") << "placeholder: refused before it is read"; }
  const std::string base = FaceswapBinary().string() + " convert " + (dir / "in.png").string() + " -m " +
                           (dir / "no_model").string() + " --no-watermark";
  const CommandResult bare = RunCommand(base + " -o " + (dir / "out.mp4").string());
  EXPECT_EQ(bare.exit_code, 2) << bare.output;
  EXPECT_NE(bare.output.find("--i-understand-unmarked-output"), std::string::npos) << bare.output;
  const CommandResult image = RunCommand(base + " --i-understand-unmarked-output -o " + (dir / "out.png").string());
  EXPECT_EQ(image.exit_code, 2) << image.output;
  EXPECT_NE(image.output.find("video output"), std::string::npos) << image.output;
  const CommandResult untagged =
      RunCommand(base + " --i-understand-unmarked-output --synthetic-tag '' -o " + (dir / "out.mp4").string());
  EXPECT_EQ(untagged.exit_code, 2) << untagged.output;
  // Acknowledged, to a video: accepted, and the run goes on to fail on the missing model.
  const CommandResult accepted = RunCommand(base + " --i-understand-unmarked-output -o " + (dir / "out.mp4").string());
  EXPECT_EQ(accepted.exit_code, 5) << accepted.output;
  EXPECT_NE(accepted.output.find("no invisible watermark"), std::string::npos) << accepted.output;
  const CommandResult weak = RunCommand(FaceswapBinary().string() + " convert " + (dir / "in.png").string() + " -m " +
                                        (dir / "no_model").string() + " -o " + (dir / "out.mp4").string() +
                                        " --watermark-strength 0");
  EXPECT_EQ(weak.exit_code, 2) << weak.output;
}

}  // namespace
}  // namespace faceswap::test

namespace faceswap::test {
namespace {

TEST(CliExtract, ImageFolderGivesCropsAndAlignments) {
  FACESWAP_REQUIRE_SAMPLE(images, "images");
  const auto out = MakeTempDir("cli_extract");
  const std::string cmd = FaceswapBinary().string() + " extract '" + images.string() + "' -o '" + out.string() +
                          "' --size 96 --face-select largest -q";
  const CommandResult first = RunCommand(cmd);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  int pngs = 0;
  for (const auto& e : std::filesystem::directory_iterator(out)) pngs += e.path().extension() == ".png";
  // Five images, one face kept from each (largest), the partial face possibly missing.
  EXPECT_GE(pngs, 4);
  EXPECT_LE(pngs, 5);
  EXPECT_TRUE(std::filesystem::exists(out / "alignments.json"));
  const CommandResult again = RunCommand(FaceswapBinary().string() + " extract '" + images.string() + "' -o '" +
                                         out.string() + "' --size 96 --face-select largest");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already extracted"), std::string::npos) << again.output;
}

TEST(CliExtract, HelpListsOptionsAndBadSelectionIsAUsageError) {
  const CommandResult help = RunCommand(FaceswapBinary().string() + " extract --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* word : {"--size", "--coverage", "--every", "--min-size", "--face-select", "--redetect-every",
                           "--no-tracking", "--landmarks", "--detector", "--by-identity"}) {
    EXPECT_NE(help.output.find(word), std::string::npos) << word;
  }
  const auto out = MakeTempDir("cli_extract_bad");
  const CommandResult bad = RunCommand(FaceswapBinary().string() + " extract " + out.string() + " -o " + out.string() +
                                       " --face-select biggest");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

}  // namespace
}  // namespace faceswap::test
