#include "faceswap/core/file_util.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "faceswap/core/error.h"

namespace fs = std::filesystem;

namespace faceswap::core {

fs::path TemporaryPathFor(const fs::path& final_path) {
  static std::atomic<int> counter{0};
  fs::path tmp = final_path;
  tmp.replace_filename(final_path.stem().string() + ".tmp-" + std::to_string(getpid()) + "-" +
                       std::to_string(counter++) + final_path.extension().string());
  return tmp;
}

void CommitFile(const fs::path& tmp, const fs::path& final_path) {
  if (std::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw OutputError(final_path, "cannot move finished file into place (" + why + ")");
  }
}

void WriteFileAtomically(const fs::path& path, const std::string& contents) {
  TemporaryFile tmp(TemporaryPathFor(path));
  {
    std::ofstream out(tmp.path(), std::ios::binary | std::ios::trunc);
    if (!out) throw OutputError(path, "cannot write (" + std::string(std::strerror(errno)) + ")");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) throw OutputError(path, "write failed (disk full?)");
  }
  CommitFile(tmp.path(), path);
  tmp.Release();
}

void RequireExists(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path, "no such file or folder");
}

void EnsureDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw OutputError(dir, "cannot create folder (" + (ec ? ec.message() : "not a folder") + ")");
  }
}

TemporaryFile::~TemporaryFile() {
  if (!released_) {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
}

}  // namespace faceswap::core
