#pragma once
// Small filesystem helpers shared by modules that write user data.

#include <filesystem>
#include <string>

namespace faceswap::core {

// A temporary name beside `final_path` ("out.mp4" -> "out.tmp-<pid>-<n>.mp4"): same folder,
// so the final rename is atomic; same extension, so format guessing from the name works.
std::filesystem::path TemporaryPathFor(const std::filesystem::path& final_path);

// Renames tmp over final atomically (POSIX rename). Throws OutputError naming `final_path`.
void CommitFile(const std::filesystem::path& tmp, const std::filesystem::path& final_path);

// Writes `contents` to `path` through a temporary file and rename.
void WriteFileAtomically(const std::filesystem::path& path, const std::string& contents);

// Throws InputError("path: no such file or folder") when `path` does not exist.
void RequireExists(const std::filesystem::path& path);

// Creates `dir` (and parents) or throws OutputError naming it.
void EnsureDirectory(const std::filesystem::path& dir);

// Deletes a file when it goes out of scope unless Release() was called: keeps failed runs
// from leaving half-written temporaries behind.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::filesystem::path path) : path_(std::move(path)) {}
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void Release() { released_ = true; }

 private:
  std::filesystem::path path_;
  bool released_ = false;
};

}  // namespace faceswap::core
