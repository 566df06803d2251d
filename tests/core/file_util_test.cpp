#include "faceswap/core/file_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "faceswap/core/error.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::core {
namespace {

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FileUtil, TemporaryPathKeepsFolderAndExtension) {
  const fs::path tmp = TemporaryPathFor("/data/out/clip.mp4");
  EXPECT_EQ(tmp.parent_path(), fs::path("/data/out"));
  EXPECT_EQ(tmp.extension(), ".mp4");
  EXPECT_NE(tmp.filename(), fs::path("clip.mp4"));
  EXPECT_NE(TemporaryPathFor("/data/out/clip.mp4"), tmp);  // unique per call
}

TEST(FileUtil, AtomicWriteReplacesContentAndLeavesNoTemporary) {
  const fs::path dir = test::MakeTempDir("atomic");
  const fs::path file = dir / "model.json";
  WriteFileAtomically(file, "first");
  WriteFileAtomically(file, "second");
  EXPECT_EQ(ReadAll(file), "second");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(FileUtil, AtomicWriteIntoMissingFolderFailsWithOutputErrorAndKeepsNothing) {
  const fs::path dir = test::MakeTempDir("atomic_missing");
  const fs::path file = dir / "no_such_folder" / "x.json";
  try {
    WriteFileAtomically(file, "data");
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.json"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(file));
}

TEST(FileUtil, TemporaryFileIsRemovedUnlessReleased) {
  const fs::path dir = test::MakeTempDir("tempfile");
  {
    TemporaryFile tmp(dir / "a.part");
    std::ofstream(tmp.path()) << "x";
  }
  EXPECT_FALSE(fs::exists(dir / "a.part"));
  {
    TemporaryFile tmp(dir / "b.part");
    std::ofstream(tmp.path()) << "x";
    tmp.Release();
  }
  EXPECT_TRUE(fs::exists(dir / "b.part"));
}

TEST(FileUtil, RequireExistsNamesTheMissingPath) {
  try {
    RequireExists("/no/such/clip.mp4");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "/no/such/clip.mp4: no such file or folder");
  }
}

}  // namespace
}  // namespace faceswap::core
