#pragma once
// core::FolderLock: keeps two writers out of one folder (two `faceswap train` on one model,
// two extracts into one output). It holds an advisory flock(2) on DIR/.faceswap.lock for
// its lifetime; the file also records the holder's pid and command for the error message.
// The kernel drops the lock when the holder exits, however it exits, so a lock left by a
// killed process never blocks. Readers (convert, eval) take no lock: saves are atomic
// renames, so they always read a whole save and never hold up a trainer.

#include <filesystem>
#include <string>

#include "faceswap/core/error.h"

namespace faceswap::core {

inline constexpr const char* kLockFileName = ".faceswap.lock";

class FolderLock {
 public:
  // What to do when another process holds the lock: fail, or wait for it (ranks of one
  // distributed training run filling one face cache take turns; the first extracts).
  enum class IfHeld { kFail, kWait };

  // Creates `dir` if missing and locks it for `command` (e.g. "faceswap train"). When
  // another process holds it, throws Error(`code_if_held`, dir, "in use by pid N (...)"),
  // or with IfHeld::kWait logs who holds it and blocks until it is free.
  FolderLock(const std::filesystem::path& dir, const std::string& command, ExitCode code_if_held,
             IfHeld if_held = IfHeld::kFail);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace faceswap::core
