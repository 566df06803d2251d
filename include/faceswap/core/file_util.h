#pragma once
// Small filesystem helpers shared by modules that write user data.

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace faceswap::core {

// A temporary name beside `final_path` ("out.mp4" -> "out.tmp-<pid>-<n>.mp4"): same folder,
// so the final rename is atomic; same extension, so format guessing from the name works.
std::filesystem::path TemporaryPathFor(const std::filesystem::path& final_path);

// Renames tmp over final atomically (POSIX rename). Throws OutputError naming `final_path`.
void CommitFile(const std::filesystem::path& tmp, const std::filesystem::path& final_path);

// Writes `contents` to `path` through a temporary file and rename.
void WriteFileAtomically(const std::filesystem::path& path, const std::string& contents);

// std::filesystem::remove_all's error_code form: removes a file, or a folder and all it
// holds, without following links; returns how many entries went (0 when nothing was there)
// and sets `ec` from the first entry that could not go. Use it instead of remove_all:
// PyTorch's wheels export their own static copy of std::filesystem from libtorch (pytorch
// issue 133437), which every program linking that LibTorch binds to, and its remove_all
// crashed, a call through a null pointer (PyTorch 2.11, on the lent GPU machine).
std::uintmax_t RemoveTree(const std::filesystem::path& path, std::error_code& ec) noexcept;

// True for a name TemporaryPathFor made ("out.tmp-123-0.mp4"), for any pid and counter.
bool IsTemporaryName(const std::filesystem::path& name);

// Delete what killed processes left: files and folders under temporary names. Only for a
// place whose writers the caller has locked out (FolderLock, OutputLock), so that no live
// writer's temporary is among them. Each returns how many it removed.
// Every temporary directly in `dir`:
int RemoveStaleTemporaries(const std::filesystem::path& dir);
// Only those of one final path ("out.mp4": "out.tmp-*.mp4" beside it; "frames/": "frames.tmp-*"):
int RemoveStaleTemporariesOf(const std::filesystem::path& final_path);

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

// A file's new contents written in full under a temporary name; Commit() renames it over
// the final name. Writing it first is how a save made of several files fails on a full
// disk before any of them is replaced. Destroyed uncommitted, it deletes the temporary.
class StagedFile {
 public:
  // Throws OutputError naming `final_path` when the contents cannot be written.
  StagedFile(const std::filesystem::path& final_path, const std::string& contents);
  void Commit();  // throws OutputError naming the final path

 private:
  std::filesystem::path final_path_;
  TemporaryFile tmp_;
};

// "why" for a failed write: strerror(errno), with a hint when the disk or a size limit is full.
std::string WriteFailure(int error_number);

}  // namespace faceswap::core
