#include "video_test_util.h"

#include <opencv2/core.hpp>

#include <cmath>

namespace faceswap::test {

std::string Quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

namespace {
std::string Trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}
}  // namespace

std::string Ffprobe(const std::string& arguments, const std::filesystem::path& file) {
  const auto result = RunCommand("ffprobe -v error " + arguments + " " + Quoted(file));
  EXPECT_EQ(result.exit_code, 0) << result.output;
  return Trim(result.output);
}

void Ffmpeg(const std::string& arguments) {
  const auto result = RunCommand("ffmpeg -nostdin -v error -y " + arguments);
  ASSERT_EQ(result.exit_code, 0) << "ffmpeg " << arguments << "\n" << result.output;
}

int64_t CountFramesWithFfprobe(const std::filesystem::path& file) {
  const std::string text = Ffprobe(
      "-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0", file);
  return std::stoll(text);
}

double StreamDurationWithFfprobe(const std::filesystem::path& file, const std::string& type) {
  const std::string text =
      Ffprobe("-select_streams " + type + ":0 -show_entries stream=duration -of csv=p=0", file);
  return std::stod(text);
}

double Psnr(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return 0.0;
  const double norm = cv::norm(a, b, cv::NORM_L2SQR);
  const double mse = norm / static_cast<double>(a.total() * a.channels());
  if (mse <= 1e-10) return 99.0;
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

std::vector<cv::Mat> DecodeAll(const std::filesystem::path& clip) {
  video::Reader reader(clip);
  std::vector<cv::Mat> frames;
  video::Frame frame;
  while (reader.Next(frame)) frames.push_back(frame.bgr.clone());
  return frames;
}

}  // namespace faceswap::test
