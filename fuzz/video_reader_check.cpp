#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "checks.h"
#include "faceswap/core/error.h"
#include "faceswap/video/reader.h"

namespace fs = std::filesystem;

namespace faceswap::fuzz {
namespace {

const char* Extension(const std::string& input) {
  if (input.rfind("\x89PNG", 0) == 0) return ".png";
  if (input.rfind("\xFF\xD8", 0) == 0) return ".jpg";
  return ".mp4";
}

}  // namespace

std::string CheckVideoReader(const std::string& input) {
  const fs::path file = fs::temp_directory_path() / ("fuzz_media_" + std::to_string(getpid()) + Extension(input));
  std::ofstream(file, std::ios::binary | std::ios::trunc) << input;
  std::string failure;
  try {
    video::ReaderOptions options;
    options.threads = 1;  // one decoder thread: reproducible runs
    video::Reader reader(file, options);
    video::Frame frame;
    for (int i = 0; i < 4 && failure.empty() && reader.Next(frame); ++i) {
      if (frame.bgr.empty() || frame.bgr.type() != CV_8UC3) failure = "Next() gave a frame that is not 8-bit BGR";
    }
  } catch (const InputError&) {
  }
  std::error_code ignored;
  fs::remove(file, ignored);
  return failure;
}

}  // namespace faceswap::fuzz
