// The batch scripts' --shard I/N and Slurm array split, listed with -n (nothing runs): the
// shards of a folder are disjoint, cover it, and are the same however they are asked for.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::test {
namespace {

const std::string kScripts = std::string(FACESWAP_SOURCE_DIR) + "/scripts/";

// The videos a dry run of `script` says it would process, by file name.
std::vector<std::string> Listed(const std::string& env, const std::string& script, const std::string& args) {
  const CommandResult r = RunCommand(env + " bash " + kScripts + script + " -n " + args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> names;
  std::stringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("would run  ", 0) == 0) names.push_back(line.substr(11, line.find(':') - 11));
  }
  return names;
}

class BatchShard : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("batch_shard");
    fs::create_directories(dir_ / "in");
    fs::create_directories(dir_ / "model");
    for (const char* name : {"k.mp4", "a.mov", "z.MKV", "b c.mp4", "m.webm", "q.avi", "d.m4v"}) {
      std::ofstream(dir_ / "in" / name) << "not decoded by a dry run";
    }
    std::ofstream(dir_ / "in" / "notes.txt") << "not a video";
    std::ofstream(dir_ / "model" / "model.json") << "{}";  // the script only checks it is there
  }
  std::string In() const { return (dir_ / "in").string(); }
  std::string Out() const { return (dir_ / "out").string(); }
  fs::path dir_;
};

TEST_F(BatchShard, SharesAreDisjointCoverTheFolderAndMatchSlurmArrays) {
  const std::string env = "FACESWAP=" + FaceswapBinary().string();
  const std::vector<std::string> all = Listed(env, "batch_extract.sh", "'" + In() + "' '" + Out() + "'");
  ASSERT_EQ(all.size(), 7u);
  std::set<std::string> seen;
  for (int i = 1; i <= 3; ++i) {
    const auto share = Listed(env, "batch_extract.sh", "--shard " + std::to_string(i) + "/3 '" + In() + "' '" + Out() + "'");
    EXPECT_GE(share.size(), 2u);  // 7 over 3: 3, 2, 2
    EXPECT_LE(share.size(), 3u);
    for (const auto& name : share) EXPECT_TRUE(seen.insert(name).second) << name << " is in two shards";
    // Asked again, and through a Slurm array (--array=4-6: ids 4..6, min 4), the same share;
    // convert splits the same way.
    EXPECT_EQ(Listed(env, "batch_extract.sh", "--shard=" + std::to_string(i) + "/3 '" + In() + "' '" + Out() + "'"), share);
    const std::string slurm = env + " SLURM_ARRAY_TASK_ID=" + std::to_string(3 + i) +
                              " SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=3";
    EXPECT_EQ(Listed(slurm, "batch_extract.sh", "'" + In() + "' '" + Out() + "'"), share);
    EXPECT_EQ(Listed(env, "batch_convert.sh",
                     "--shard " + std::to_string(i) + "/3 '" + In() + "' '" + Out() + "' '" + (dir_ / "model").string() + "'"),
              share);
  }
  EXPECT_EQ(seen, std::set<std::string>(all.begin(), all.end()));
  EXPECT_FALSE(fs::exists(dir_ / "out")) << "a dry run wrote something";
}

TEST_F(BatchShard, ABadShardIsAUsageError) {
  for (const char* shard : {"0/3", "4/3", "3", "a/b", "1/0"}) {
    const CommandResult r = RunCommand("bash " + kScripts + "batch_extract.sh --shard " + shard + " '" + In() + "' '" + Out() + "'");
    EXPECT_EQ(r.exit_code, 2) << shard << ": " << r.output;
    EXPECT_NE(r.output.find("shard"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace faceswap::test
