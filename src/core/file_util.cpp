#include "faceswap/core/file_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <regex>
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

void WriteFileAtomically(const fs::path& path, const std::string& contents) { StagedFile(path, contents).Commit(); }

std::string WriteFailure(int error_number) {
  std::string why = std::strerror(error_number);
  if (error_number == ENOSPC || error_number == EFBIG || error_number == EDQUOT) why += "; is the disk full?";
  return why;
}

StagedFile::StagedFile(const fs::path& final_path, const std::string& contents)
    : final_path_(final_path), tmp_(TemporaryPathFor(final_path)) {
  // POSIX I/O rather than a stream: the error number of a failed write (ENOSPC, EFBIG) is kept.
  const int fd = open(tmp_.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw OutputError(final_path, "cannot write (" + std::string(std::strerror(errno)) + ")");
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      close(fd);
      throw OutputError(final_path, "write failed (" + WriteFailure(error) + ")");
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) throw OutputError(final_path, "write failed (" + WriteFailure(errno) + ")");
}

void StagedFile::Commit() {
  CommitFile(tmp_.path(), final_path_);
  tmp_.Release();
}

namespace {

// TemporaryPathFor's form, <stem>.tmp-<pid>-<counter><extension>: the stem and the extension.
const std::regex& TemporaryForm() {
  static const std::regex form(R"((.+)\.tmp-[0-9]+-[0-9]+((\.[^.]*)?))");
  return form;
}

// Removes the entries of `dir` under temporary names that `wanted` accepts.
int RemoveTemporariesIf(const fs::path& dir, const std::function<bool(const std::string&)>& wanted) {
  int removed = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path name = it->path().filename();
    std::error_code ignored;
    if (IsTemporaryName(name) && wanted(name.string()) && RemoveTree(it->path(), ignored) > 0) ++removed;
  }
  return removed;
}

}  // namespace

namespace {

// nftw's callback has no context argument: the walk runs on the calling thread.
thread_local std::uintmax_t tree_removed = 0;
thread_local int tree_error = 0;

int RemoveTreeEntry(const char* path, const struct stat*, int, struct FTW*) {
  if (::remove(path) == 0) {
    ++tree_removed;
  } else if (tree_error == 0) {
    tree_error = errno;
  }
  return 0;  // go on: remove what can go, like remove_all
}

}  // namespace

std::uintmax_t RemoveTree(const fs::path& path, std::error_code& ec) noexcept {
  ec.clear();
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno != ENOENT) ec.assign(errno, std::generic_category());
    return 0;
  }
  tree_removed = 0;
  tree_error = 0;
  if (!S_ISDIR(info.st_mode)) {
    RemoveTreeEntry(path.c_str(), nullptr, 0, nullptr);
  } else if (::nftw(path.c_str(), RemoveTreeEntry, 16, FTW_DEPTH | FTW_PHYS) != 0 && tree_error == 0) {
    tree_error = errno;
  }
  if (tree_error != 0) ec.assign(tree_error, std::generic_category());
  return tree_removed;
}

bool IsTemporaryName(const fs::path& name) { return std::regex_match(name.filename().string(), TemporaryForm()); }

int RemoveStaleTemporaries(const fs::path& dir) {
  return RemoveTemporariesIf(dir, [](const std::string&) { return true; });
}

int RemoveStaleTemporariesOf(const fs::path& final_path) {
  const fs::path target = final_path.has_filename() ? final_path : final_path.parent_path();
  const std::string final_name = target.filename().string();
  return RemoveTemporariesIf(target.has_parent_path() ? target.parent_path() : fs::path("."),
                             [&](const std::string& name) {
                               std::smatch parts;
                               return std::regex_match(name, parts, TemporaryForm()) &&
                                      parts[1].str() + parts[2].str() == final_name;
                             });
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
