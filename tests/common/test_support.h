#pragma once
// Helpers every test executable shares: where the sample media is, running the faceswap
// binary, and RNG seeding hooks.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace faceswap::test {

// The shared sample media: $FACESWAP_SAMPLES, else ../shared/data beside the source tree.
std::optional<std::filesystem::path> SamplesDir();

// A file inside the sample media, or nullopt (with the reason in `why`) when absent.
std::optional<std::filesystem::path> SampleFile(const std::string& relative, std::string* why);

// Skips the current test with a clear reason when the sample file is missing; otherwise
// assigns its full path to `var`.
#define FACESWAP_REQUIRE_SAMPLE(var, relative)                                \
  std::filesystem::path var;                                                  \
  do {                                                                        \
    std::string why_missing_;                                                 \
    auto found_ = ::faceswap::test::SampleFile(relative, &why_missing_);      \
    if (!found_) GTEST_SKIP() << why_missing_;                                \
    var = *found_;                                                            \
  } while (0)

// A fresh empty folder under the test temp dir, removed at the end of the process.
std::filesystem::path MakeTempDir(const std::string& name);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing its combined output.
CommandResult RunCommand(const std::string& command_line);

// The built faceswap binary.
std::filesystem::path FaceswapBinary();

// A loopback port nobody listens on right now (for a rank 0 that hosts the store itself).
int FreePort();

// True when a program is on PATH (e.g. "ffmpeg", "ffprobe").
bool HaveProgram(const std::string& name);

// Something slow that several test processes need (extracted faces, a trained model):
// built once into the build tree's test cache by `build(dir)` and reused while the
// faceswap binary is unchanged. A file lock makes concurrent tests wait, not race.
std::filesystem::path CachedArtifact(const std::string& name,
                                     const std::function<void(const std::filesystem::path& dir)>& build);

// Runs `faceswap ARGS` and fails the current test (with the output) unless it exits 0.
CommandResult RunFaceswap(const std::string& args);

// A file size limit (RLIMIT_FSIZE, what `ulimit -f` sets) with SIGXFSZ ignored, for as long
// as the object lives: writes past `bytes` fail with EFBIG, as they would on a full disk.
// Works as root and not, without mounting anything. The process keeps its own writes
// (gtest's output is a pipe, not a file), and ctest runs every test in its own process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(unsigned long long bytes);
  ~FileSizeLimit();
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  unsigned long long saved_soft_limit_ = 0;
  void (*saved_handler_)(int) = nullptr;
};

// The shell prefix that runs a command under the same limit: "trap '' XFSZ; prlimit --fsize=N ".
std::string FileSizeLimitPrefix(unsigned long long bytes);

// Seeders run before every test with the same seed; modules with their own RNG (LibTorch)
// register one from their test files: static bool r = RegisterSeeder([](unsigned s){...});
bool RegisterSeeder(std::function<void(unsigned)> seeder);

}  // namespace faceswap::test
