#include "faceswap/core/file_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <vector>
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

TEST(FileUtil, AFullDiskFailsTheWriteAndKeepsTheOldFile) {
  const fs::path dir = test::MakeTempDir("atomic_full");
  const fs::path file = dir / "model.json";
  WriteFileAtomically(file, "the previous save");
  try {
    test::FileSizeLimit limit(4096);
    WriteFileAtomically(file, std::string(10000, 'x'));
    FAIL() << "a write past the limit succeeded";
  } catch (const OutputError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": write failed (File too large; is the disk full?)");
  }
  EXPECT_EQ(ReadAll(file), "the previous save");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);  // no temporary left
}

TEST(FileUtil, StagedFilesReplaceNothingUntilCommitted) {
  const fs::path dir = test::MakeTempDir("staged");
  WriteFileAtomically(dir / "a.json", "old a");
  {
    StagedFile a(dir / "a.json", "new a");
    StagedFile b(dir / "b.json", "new b");
    EXPECT_EQ(ReadAll(dir / "a.json"), "old a");
    a.Commit();
  }  // b is dropped: its temporary goes, nothing appears under its name
  EXPECT_EQ(ReadAll(dir / "a.json"), "new a");
  EXPECT_FALSE(fs::exists(dir / "b.json"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(FileUtil, TemporaryNamesAreRecognisedAndStaleOnesRemoved) {
  EXPECT_TRUE(IsTemporaryName(TemporaryPathFor("/m/weights.pt")));
  EXPECT_TRUE(IsTemporaryName(TemporaryPathFor("/out/frames")));
  EXPECT_TRUE(IsTemporaryName("clip.tar.tmp-12-3.gz"));
  for (const char* name : {"weights.pt", "clip.tmp.mp4", "a.tmp-12.mp4", "a.tmp-x-1.mp4", ".tmp-1-2.mp4"}) {
    EXPECT_FALSE(IsTemporaryName(name)) << name;
  }

  const fs::path dir = test::MakeTempDir("stale");
  for (const char* name : {"out.mp4", "out.tmp-99999-0.mp4", "out.tmp-99999-1.mkv", "other.tmp-5-0.mp4", "keep.txt"}) {
    std::ofstream(dir / name) << "x";
  }
  fs::create_directory(dir / "frames.tmp-7-0");
  std::ofstream(dir / "frames.tmp-7-0" / "frame_000001.png") << "x";
  EXPECT_EQ(RemoveStaleTemporariesOf(dir / "out.mp4"), 1);  // not out.*.mkv, not other.*
  EXPECT_TRUE(fs::exists(dir / "out.tmp-99999-1.mkv"));
  EXPECT_EQ(RemoveStaleTemporariesOf(dir / "frames/"), 1);  // a folder output's temporary folder
  EXPECT_FALSE(fs::exists(dir / "frames.tmp-7-0"));
  EXPECT_EQ(RemoveStaleTemporaries(dir), 2);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"keep.txt", "out.mp4"}));
}

// What remove_all's error_code form does: files, nested folders, links removed (not what
// they point to), a count of the entries, and no error for a path that is not there.
TEST(FileUtil, RemoveTreeRemovesFoldersAndLinksButNotWhatTheyPointTo) {
  const fs::path dir = test::MakeTempDir("remove_tree");
  const fs::path tree = dir / "tree", outside = dir / "outside";
  fs::create_directories(tree / "a" / "b");
  fs::create_directories(outside);
  std::ofstream(tree / "top.txt") << "x";
  std::ofstream(tree / "a" / "b" / "deep.txt") << "y";
  std::ofstream(outside / "kept.txt") << "z";
  fs::create_directory_symlink(outside, tree / "a" / "link");
  std::error_code ec;
  EXPECT_EQ(RemoveTree(tree, ec), 6u);  // tree, top.txt, a, b, deep.txt, link
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_FALSE(fs::exists(tree));
  EXPECT_TRUE(fs::exists(outside / "kept.txt"));
  EXPECT_EQ(RemoveTree(outside / "kept.txt", ec), 1u);
  EXPECT_EQ(RemoveTree(tree, ec), 0u);
  EXPECT_FALSE(ec) << ec.message();
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
