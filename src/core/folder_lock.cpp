#include "faceswap/core/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "faceswap/core/file_util.h"

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

}  // namespace

FolderLock::FolderLock(const std::filesystem::path& dir, const std::string& command, ExitCode code_if_held,
                       IfHeld if_held) {
  EnsureDirectory(dir);
  const std::filesystem::path file = dir / kLockFileName;
  fd_ = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw OutputError(file, std::string("cannot create the lock file: ") + std::strerror(errno));
  int error = flock(fd_, LOCK_EX | LOCK_NB) == 0 ? 0 : errno;
  if (error == EWOULDBLOCK && if_held == IfHeld::kWait) {
    spdlog::info("{}: in use by another faceswap ({}); waiting for it", dir.string(), ReadAll(fd_));
    do {
      error = flock(fd_, LOCK_EX) == 0 ? 0 : errno;
    } while (error == EINTR);
  }
  if (error != 0) {
    const std::string holder = ReadAll(fd_);
    close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw Error(code_if_held, dir,
                  "in use by another faceswap (" + (holder.empty() ? std::string("pid unknown") : holder) +
                      "); wait for it to finish or stop it");
    }
    throw OutputError(file, std::string("cannot lock: ") + std::strerror(error));
  }
  // Ours now: record who holds it (read only by a second writer's error message).
  const std::string text = "pid " + std::to_string(getpid()) + ": " + command + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    // The lock holds without the note; only the message of a second writer is poorer.
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) close(fd_);  // closing the descriptor releases the flock
}

}  // namespace faceswap::core
