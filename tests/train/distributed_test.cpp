// Reading a rank's place in a data-parallel job from the environment (torchrun, Slurm),
// and how threads are shared between the ranks of one machine.

#include "faceswap/train/distributed.h"

#include <gtest/gtest.h>

#include <map>

#include "faceswap/core/error.h"
#include "faceswap/train/local_launcher.h"

namespace faceswap::train {
namespace {

EnvironmentLookup From(const std::map<std::string, std::string>& vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DistributedEnvironment, NothingSetMeansTrainingAlone) {
  const DistributedOptions o = ReadDistributedEnvironment(From({}));
  EXPECT_FALSE(o.launched);
  EXPECT_EQ(o.rank, 0);
  EXPECT_EQ(o.world_size, 1);
  EXPECT_EQ(o.env_threads, 0);
  // OpenMP's own syntax (nested teams) is no business of a run that is not a rank.
  EXPECT_FALSE(ReadDistributedEnvironment(From({{"OMP_NUM_THREADS", "4,2"}, {"SLURM_CPUS_PER_TASK", "8"}})).launched);
}

TEST(DistributedEnvironment, ReadsWhatTorchrunSets) {
  const DistributedOptions o = ReadDistributedEnvironment(From({{"RANK", "3"},
                                                                {"WORLD_SIZE", "8"},
                                                                {"LOCAL_RANK", "1"},
                                                                {"LOCAL_WORLD_SIZE", "4"},
                                                                {"MASTER_ADDR", "node0"},
                                                                {"MASTER_PORT", "29400"},
                                                                {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                                                {"TORCHELASTIC_RESTART_COUNT", "2"},
                                                                {"OMP_NUM_THREADS", "1"}}));
  EXPECT_TRUE(o.launched);
  EXPECT_EQ(o.rank, 3);
  EXPECT_EQ(o.world_size, 8);
  EXPECT_EQ(o.local_rank, 1);
  EXPECT_EQ(o.local_world_size, 4);
  EXPECT_EQ(o.master_addr, "node0");
  EXPECT_EQ(o.master_port, 29400);
  EXPECT_TRUE(o.launcher_hosts_store);
  EXPECT_EQ(o.attempt, "2");
  EXPECT_EQ(o.env_threads, 1);
}

TEST(DistributedEnvironment, PlainEnvLaunchHasRankZeroHostTheStore) {
  const DistributedOptions o = ReadDistributedEnvironment(
      From({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}}));
  EXPECT_TRUE(o.launched);
  EXPECT_FALSE(o.launcher_hosts_store);
  EXPECT_EQ(o.master_port, kDefaultMasterPort);  // PyTorch's default when MASTER_PORT is unset
  EXPECT_EQ(o.local_world_size, 1);
}

TEST(DistributedEnvironment, ReadsSlurmTasksWithTheMasterAddressGiven) {
  const DistributedOptions o = ReadDistributedEnvironment(From({{"SLURM_PROCID", "5"},
                                                                {"SLURM_NTASKS", "8"},
                                                                {"SLURM_LOCALID", "1"},
                                                                {"SLURM_TASKS_PER_NODE", "4(x2)"},
                                                                {"SLURM_CPUS_PER_TASK", "6"},
                                                                {"MASTER_ADDR", "gpu-node-07"}}));
  EXPECT_TRUE(o.launched);
  EXPECT_EQ(o.rank, 5);
  EXPECT_EQ(o.world_size, 8);
  EXPECT_EQ(o.local_rank, 1);
  EXPECT_EQ(o.local_world_size, 4);
  EXPECT_EQ(o.master_addr, "gpu-node-07");
  EXPECT_EQ(o.env_threads, 6);
  // torchrun's variables win when both are there (torchrun inside a Slurm allocation).
  const DistributedOptions both = ReadDistributedEnvironment(From(
      {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"RANK", "1"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "a"}}));
  EXPECT_EQ(both.rank, 1);
  EXPECT_EQ(both.world_size, 4);
}

TEST(DistributedEnvironment, ASingleSlurmTaskWithoutMasterIsAnOrdinaryRun) {
  EXPECT_FALSE(ReadDistributedEnvironment(From({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}})).launched);
}

TEST(DistributedEnvironment, RefusesBrokenOrIncompleteSettings) {
  auto refused = [](const std::map<std::string, std::string>& vars, const std::string& mention) {
    try {
      ReadDistributedEnvironment(From(vars));
      ADD_FAILURE() << "accepted, expected an error mentioning " << mention;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
    }
  };
  refused({{"RANK", "0"}}, "WORLD_SIZE");
  refused({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "outside a world of 2");
  refused({{"RANK", "x"}, {"WORLD_SIZE", "2"}}, "RANK='x'");
  refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}}, "MASTER_ADDR");
  refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}, "MASTER_PORT");
  refused({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "4"}}, "MASTER_ADDR");
  refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}},
          "local rank 2");
}

TEST(DistributedEnvironment, ThreadsAreSharedBetweenTheRanksOfAMachine) {
  DistributedOptions o;
  o.local_world_size = 4;
  EXPECT_EQ(ThreadsPerRank(0, o, 16), 4);  // cores split
  EXPECT_EQ(ThreadsPerRank(0, o, 2), 1);   // never zero
  EXPECT_EQ(ThreadsPerRank(3, o, 16), 3);  // --threads given for each rank
  o.env_threads = 2;
  EXPECT_EQ(ThreadsPerRank(0, o, 16), 2);  // OMP_NUM_THREADS / SLURM_CPUS_PER_TASK
  // --nproc splits the total (--threads, else all cores) between its ranks.
  EXPECT_EQ(SplitThreads(0, 2, 2), 1);
  EXPECT_EQ(SplitThreads(8, 2, 2), 4);
  EXPECT_EQ(SplitThreads(3, 4, 16), 1);
}

}  // namespace
}  // namespace faceswap::train
