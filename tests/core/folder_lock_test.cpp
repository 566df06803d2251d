// FolderLock between real processes: a child holds the lock, the parent is refused with
// the child's pid in the message; once the child is killed (no clean-up), the lock is free.
#include "faceswap/core/folder_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "faceswap/core/error.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::core {
namespace {

// Forks a child that takes a lock (a FolderLock of `dir`, or with `output` an OutputLock of
// dir/output), reports through a pipe, and waits to be killed.
pid_t HoldInChild(const fs::path& dir, const std::string& output = "") {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    try {
      std::optional<FolderLock> folder;
      std::optional<OutputLock> file;
      if (output.empty()) {
        folder.emplace(dir, "faceswap train", ExitCode::kModel);
      } else {
        file.emplace(dir / output, "faceswap convert");
      }
      const char ok = 1;
      (void)!write(ready[1], &ok, 1);
      pause();  // until SIGKILL: the lock is never released by the child itself
    } catch (...) {
    }
    _exit(1);
  }
  close(ready[1]);
  char ok = 0;
  const bool got = read(ready[0], &ok, 1) == 1 && ok == 1;
  close(ready[0]);
  return got ? pid : -1;
}

TEST(FolderLock, ASecondWriterIsRefusedWithTheHoldersPid) {
  const fs::path dir = test::MakeTempDir("lock_held") / "model";
  const pid_t child = HoldInChild(dir);
  ASSERT_GT(child, 0);
  try {
    FolderLock second(dir, "faceswap train", ExitCode::kModel);
    ADD_FAILURE() << "a second writer got the lock";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kModel);
    const std::string what = e.what();
    EXPECT_NE(what.find(dir.string() + ": in use by another faceswap"), std::string::npos) << what;
    EXPECT_NE(what.find("pid " + std::to_string(child) + ": faceswap train"), std::string::npos) << what;
  }
  // A killed holder leaves its lock file behind, but not the lock.
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(fs::exists(dir / kLockFileName));
  EXPECT_NO_THROW({ FolderLock again(dir, "faceswap train", ExitCode::kModel); });
}

TEST(FolderLock, AWaitingWriterGetsTheLockOnceTheHolderIsGone) {
  const fs::path dir = test::MakeTempDir("lock_wait") / "cache";
  const pid_t child = HoldInChild(dir);
  ASSERT_GT(child, 0);
  // The holder goes away 300 ms from now, while this process waits for the lock.
  const pid_t killer = fork();
  if (killer == 0) {
    usleep(300 * 1000);
    kill(child, SIGKILL);
    _exit(0);
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NO_THROW({ FolderLock waited(dir, "faceswap train", ExitCode::kOutput, FolderLock::IfHeld::kWait); });
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.25);  // it did wait for the holder
  int status = 0;
  waitpid(child, &status, 0);
  waitpid(killer, &status, 0);
}

TEST(FolderLock, ReleasedWhenItGoesOutOfScope) {
  const fs::path dir = test::MakeTempDir("lock_scope");
  { FolderLock first(dir, "faceswap extract", ExitCode::kOutput); }
  EXPECT_NO_THROW({ FolderLock second(dir, "faceswap extract", ExitCode::kOutput); });
}

TEST(OutputLock, ASecondConvertToTheSameOutputIsRefusedAndNoLockFileStays) {
  const fs::path dir = test::MakeTempDir("output_lock");
  const pid_t child = HoldInChild(dir, "out.mp4");
  ASSERT_GT(child, 0);
  EXPECT_TRUE(fs::exists(dir / ".out.mp4.faceswap.lock"));
  try {
    OutputLock second(dir / "out.mp4", "faceswap convert");
    ADD_FAILURE() << "a second convert got the output";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kOutput);
    EXPECT_EQ(std::string(e.what()), (dir / "out.mp4").string() + ": in use by another faceswap (pid " +
                                         std::to_string(child) + ": faceswap convert); wait for it to finish or stop it");
  }
  EXPECT_NO_THROW({ OutputLock other(dir / "other.mp4", "faceswap convert"); });  // another output is free
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  {
    OutputLock again(dir / "out.mp4", "faceswap convert");  // the killed holder's file is reused
    EXPECT_TRUE(fs::exists(again.lock_file()));
  }
  EXPECT_FALSE(fs::exists(dir / ".out.mp4.faceswap.lock"));  // released: the file goes with it
  // A folder output ("frames/") is locked by its name too.
  OutputLock frames(dir / "frames/", "faceswap convert");
  EXPECT_EQ(frames.lock_file(), dir / ".frames.faceswap.lock");
  EXPECT_THROW(OutputLock(dir / "frames", "faceswap convert"), Error);
}

TEST(OutputLock, AnOutputInAMissingFolderIsAnOutputError) {
  const fs::path output = test::MakeTempDir("output_lock_missing") / "no_such_folder" / "out.mp4";
  try {
    OutputLock lock(output, "faceswap convert");
    FAIL() << "locked an output in a missing folder";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_folder does not exist"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace faceswap::core
