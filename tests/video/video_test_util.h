#pragma once
// Helpers for the video tests: asking the ffmpeg/ffprobe programs for reference values
// (an independent implementation to check ours against) and comparing pictures.

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "faceswap/video/reader.h"
#include "test_support.h"

namespace faceswap::test {

// Skips the test when the ffmpeg/ffprobe programs are not installed.
#define FACESWAP_REQUIRE_FFMPEG_TOOLS()                                                    \
  do {                                                                                     \
    if (!::faceswap::test::HaveProgram("ffprobe") || !::faceswap::test::HaveProgram("ffmpeg")) \
      GTEST_SKIP() << "ffmpeg/ffprobe programs not installed (Debian package ffmpeg)";    \
  } while (0)

// Runs ffprobe with `arguments` on `file`, returns its trimmed stdout; fails the test on error.
std::string Ffprobe(const std::string& arguments, const std::filesystem::path& file);

// Runs an ffmpeg command line ("-i a -c copy b"); fails the test when it fails.
void Ffmpeg(const std::string& arguments);

// ffprobe -count_frames for the first video stream: the decoder's own frame count.
int64_t CountFramesWithFfprobe(const std::filesystem::path& file);

// Duration in seconds of the first stream of `type` ("a" or "v"), from ffprobe.
double StreamDurationWithFfprobe(const std::filesystem::path& file, const std::string& type);

std::string Quoted(const std::filesystem::path& path);

// PSNR in dB between two same-size 8-bit images (99 when identical).
double Psnr(const cv::Mat& a, const cv::Mat& b);

// Every frame of a video as BGR, decoded by video::Reader.
std::vector<cv::Mat> DecodeAll(const std::filesystem::path& clip);

}  // namespace faceswap::test
