#pragma once
// core::FolderLock and core::OutputLock keep two writers out of one place: two `faceswap
// train` on one model, two extracts into one output folder, two converts to one output.
// Each holds an advisory flock(2) on a lock file for its lifetime; the file also records the
// holder's pid and command for the error message. The kernel drops the lock when the holder
// exits, however it exits, so a lock left by a killed process never blocks. Readers
// (convert, eval) take no lock and never hold up a trainer: saves are atomic renames, and
// model::LoadCheckpoint reads one whole save (see checkpoint.h).

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

  // Creates `dir` if missing and locks DIR/.faceswap.lock for `command` (e.g. "faceswap
  // train"). When another process holds it, throws Error(`code_if_held`, dir, "in use by
  // another faceswap (pid N: command); ..."), or with IfHeld::kWait logs who holds it and
  // blocks until it is free.
  FolderLock(const std::filesystem::path& dir, const std::string& command, ExitCode code_if_held,
             IfHeld if_held = IfHeld::kFail);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// The lock of one output path (a file or a folder that may not exist yet): the hidden file
// ".NAME.faceswap.lock" beside it, deleted again on release so that outputs do not collect
// lock files. The output's folder must exist (OutputError otherwise, as for the output).
// Held by another process: Error(ExitCode::kOutput, output, "in use by another faceswap ...").
class OutputLock {
 public:
  OutputLock(const std::filesystem::path& output, const std::string& command);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  const std::filesystem::path& lock_file() const { return lock_file_; }

 private:
  std::filesystem::path lock_file_;
  int fd_ = -1;
};

}  // namespace faceswap::core
