#include "faceswap/core/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "faceswap/core/file_util.h"

namespace fs = std::filesystem;

namespace faceswap::core {

namespace {

std::string ReadAll(int fd) {
  std::string text;
  char buffer[256];
  if (lseek(fd, 0, SEEK_SET) < 0) return text;
  ssize_t n = 0;
  while ((n = read(fd, buffer, sizeof buffer)) > 0 && text.size() < 1024) text.append(buffer, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

// True while `fd` is still the file at `path`: a holder that deletes its lock file on
// release (OutputLock) may do so between our open and our flock, and a lock on the deleted
// file would keep out nobody.
bool StillLinked(int fd, const fs::path& path) {
  struct stat opened{}, named{};
  return fstat(fd, &opened) == 0 && stat(path.c_str(), &named) == 0 && opened.st_dev == named.st_dev &&
         opened.st_ino == named.st_ino;
}

// Opens and locks `file` exclusively, records `command` in it and returns the descriptor.
// `locked` is what the messages name (the folder or the output). When another process
// holds it: Error(`code_if_held`), or with `wait` a line saying who, then block until free.
int Lock(const fs::path& file, const fs::path& locked, const std::string& command, ExitCode code_if_held,
         bool wait = false) {
  while (true) {
    const int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw OutputError(file, std::string("cannot create the lock file: ") + std::strerror(errno));
    int error = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
    if (error == EWOULDBLOCK && wait) {
      spdlog::info("{}: in use by another faceswap ({}); waiting for it", locked.string(), ReadAll(fd));
      do {
        error = flock(fd, LOCK_EX) == 0 ? 0 : errno;
      } while (error == EINTR);
    }
    if (error != 0) {
      const std::string holder = ReadAll(fd);
      close(fd);
      if (error == EWOULDBLOCK) {
        throw Error(code_if_held, locked,
                    "in use by another faceswap (" + (holder.empty() ? std::string("pid unknown") : holder) +
                        "); wait for it to finish or stop it");
      }
      throw OutputError(file, std::string("cannot lock: ") + std::strerror(error));
    }
    if (!StillLinked(fd, file)) {
      close(fd);  // the previous holder deleted it as we opened it: lock the new one
      continue;
    }
    // Ours now: record who holds it (read only by a second writer's error message).
    const std::string text = "pid " + std::to_string(getpid()) + ": " + command + "\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      // The lock holds without the note; only the message of a second writer is poorer.
    }
    return fd;
  }
}

}  // namespace

FolderLock::FolderLock(const fs::path& dir, const std::string& command, ExitCode code_if_held, IfHeld if_held) {
  EnsureDirectory(dir);
  fd_ = Lock(dir / kLockFileName, dir, command, code_if_held, if_held == IfHeld::kWait);
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) close(fd_);  // closing the descriptor releases the flock
}

OutputLock::OutputLock(const fs::path& output, const std::string& command) {
  fs::path target = output;
  if (!target.has_filename()) target = target.parent_path();  // "frames/" is the folder "frames"
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    throw OutputError(output, "cannot write: folder " + folder.string() + " does not exist");
  }
  lock_file_ = folder / ("." + target.filename().string() + ".faceswap.lock");
  fd_ = Lock(lock_file_, output, command, ExitCode::kOutput);
}

OutputLock::~OutputLock() {
  // Delete while still holding the lock: whoever opened the file meanwhile sees it unlinked
  // once it gets the lock, and takes a new one (StillLinked).
  if (fd_ < 0) return;
  unlink(lock_file_.c_str());
  close(fd_);
}

}  // namespace faceswap::core
