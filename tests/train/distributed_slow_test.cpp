// Data-parallel training with real ranks: processes of the faceswap binary on loopback,
// Gloo, on the faces of the shared clips (label slow). Each run is a few lite steps of a
// small batch, fp32 and without the weight average, so that the runs compare exactly.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "e2e_fixtures.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/model_info.h"
#include "faceswap/model/swapper.h"
#include "faceswap/train/process_group.h"
#include "test_support.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace faceswap::train {
namespace {

// `faceswap train` on the fixture faces, lite, exactly comparable (fp32, no average).
// `threads` 0 leaves --threads out (a rank then takes OMP_NUM_THREADS, as under torchrun);
// --nproc 2 splits --threads 2 into one per rank. Every run here uses one thread a process:
// OpenMP's thread teams suffer most on a 2-core machine shared with other work.
std::vector<std::string> TrainArguments(const fs::path& dir, int threads, int batch, int iterations, int save_every) {
  std::vector<std::string> args;
  if (threads > 0) args = {"--threads", std::to_string(threads)};
  const std::vector<std::string> train = {"train", "--a", test::ExtractedFaces("a").string(), "--b",
                                          test::ExtractedFaces("b").string(), "-m", dir.string(), "--preset", "lite",
                                          "--batch", std::to_string(batch), "--iterations", std::to_string(iterations),
                                          "--save-every", std::to_string(save_every), "--preview-every", "0",
                                          "--precision", "fp32", "--average", "0"};
  args.insert(args.end(), train.begin(), train.end());
  return args;
}

std::string CommandLine(const std::vector<std::string>& arguments) {
  std::string line = test::FaceswapBinary().string();
  for (const auto& a : arguments) line += " '" + a + "'";
  return line;
}

std::vector<std::vector<double>> LossRows(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) row.push_back(std::stod(field));
    rows.push_back(row);  // iteration, loss_a, loss_b, samples/s
  }
  return rows;
}

// The checksums rank 0 logs at the end of a run, by rank.
std::vector<std::string> LoggedChecksums(const std::string& output) {
  std::vector<std::string> sums;
  const std::regex pattern("rank (\\d+): ([0-9a-f]{16})");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), pattern); it != std::sregex_iterator(); ++it) {
    sums.push_back((*it)[2]);
  }
  return sums;
}

// The live weights rank 0 saved, checksummed as the ranks do.
std::string SavedChecksum(const fs::path& dir) {
  model::ModelInfo info = model::LoadModelInfo(dir);
  model::FaceAutoencoder net = model::CreateNetwork(info);
  model::LoadCheckpoint(dir, net, nullptr, info, model::LoadWeights::kLive);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(WeightsChecksum(*net)));
  return text;
}

// A process of the faceswap binary with extra environment, its output in `log`.
pid_t Spawn(const std::vector<std::string>& arguments, const std::vector<std::string>& environment, const fs::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    for (const auto& e : environment) putenv(const_cast<char*>(e.c_str()));
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    const std::string bin = test::FaceswapBinary().string();
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Kills whatever is still running when a test ends early.
struct Reaper {
  std::vector<pid_t> pids;
  ~Reaper() {
    for (pid_t p : pids) {
      kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
  }
  // Waits up to `limit` for `pid`; its exit code (128 + signal when killed), or -1 on timeout.
  int Wait(pid_t pid, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pids.erase(std::remove(pids.begin(), pids.end(), pid), pids.end());
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
};

bool WaitForRows(const fs::path& csv, size_t rows, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (fs::exists(csv) && LossRows(csv).size() >= rows) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string ReadText(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// --nproc 2 with batch b, then one rank with batch 2b on the same faces: the same samples
// and augmentations (drawn by their place in the global batch), so the curves differ only
// by the order of floating-point sums; and the ranks' weights are bitwise equal.
TEST(DistributedSlow, TwoRanksKeepIdenticalWeightsAndFollowOneRankWithTheGlobalBatch) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  constexpr int kSteps = 12;
  const fs::path two = test::MakeTempDir("dist_two_ranks"), one = test::MakeTempDir("dist_one_rank");
  std::vector<std::string> args = TrainArguments(two, 2, 2, kSteps, kSteps);
  args.insert(args.end(), {"--nproc", "2"});
  const auto t0 = Clock::now();
  const test::CommandResult ranks = test::RunCommand(CommandLine(args));
  const double two_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_EQ(ranks.exit_code, 0) << ranks.output;
  EXPECT_NE(ranks.output.find("data parallel on 2 ranks (gloo): batch 2 per identity on each rank, 4 per identity in all"),
            std::string::npos)
      << ranks.output;

  const std::vector<std::string> sums = LoggedChecksums(ranks.output);
  ASSERT_EQ(sums.size(), 2u) << ranks.output;
  EXPECT_EQ(sums[0], sums[1]) << "the ranks' weights differ after " << kSteps << " steps";
  EXPECT_EQ(SavedChecksum(two), sums[0]) << "rank 0 saved other weights than it trained";
  const auto two_rows = LossRows(two / "loss.csv");
  ASSERT_EQ(two_rows.size(), static_cast<size_t>(kSteps)) << "only rank 0 writes loss.csv";

  const auto t1 = Clock::now();
  const test::CommandResult alone = test::RunCommand(CommandLine(TrainArguments(one, 1, 4, kSteps, kSteps)));
  const double one_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  ASSERT_EQ(alone.exit_code, 0) << alone.output;
  const auto one_rows = LossRows(one / "loss.csv");
  ASSERT_EQ(one_rows.size(), static_cast<size_t>(kSteps));
  double first = 0, worst = 0;
  for (size_t i = 0; i < one_rows.size(); ++i) {
    for (size_t id = 1; id <= 2; ++id) {
      const double relative = std::abs(two_rows[i][id] - one_rows[i][id]) / one_rows[i][id];
      worst = std::max(worst, relative);
      if (i == 0) first = std::max(first, relative);
    }
  }
  std::printf("loss, 2 ranks x batch 2 vs 1 rank x batch 4: step 1 differs by %.2g, the worst of %d steps by %.2g "
              "(relative); %.1f s and %.1f s\n",
              first, kSteps, worst, two_seconds, one_seconds);
  EXPECT_LT(first, 1e-5);  // same faces and draws: only the sums' order differs
  EXPECT_LT(worst, 2e-3);

  // The 2-rank model resumed by one rank (another world size, another per-rank batch).
  const test::CommandResult resumed = test::RunCommand(CommandLine(TrainArguments(two, 1, 4, kSteps + 4, kSteps + 4)));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming at iteration " + std::to_string(kSteps)), std::string::npos) << resumed.output;
  EXPECT_EQ(model::LoadModelInfo(two).iteration, kSteps + 4);
  EXPECT_EQ(LossRows(two / "loss.csv").size(), static_cast<size_t>(kSteps + 4));
}

// Ctrl-C on the launcher reaches every rank; all stop at the same step and rank 0 saves
// once; exit 0.
TEST(DistributedSlow, SigintToTheLauncherStopsAllRanksAndSavesOnce) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("dist_sigint");
  std::vector<std::string> args = TrainArguments(dir, 2, 2, 0, 100000);
  args.insert(args.end(), {"--nproc", "2"});
  Reaper reaper;
  const pid_t launcher = Spawn(args, {}, dir.parent_path() / "dist_sigint.log");
  reaper.pids.push_back(launcher);
  ASSERT_TRUE(WaitForRows(dir / "loss.csv", 3, std::chrono::seconds(120))) << ReadText(dir.parent_path() / "dist_sigint.log");
  kill(launcher, SIGINT);
  EXPECT_EQ(reaper.Wait(launcher, std::chrono::seconds(60)), 0) << ReadText(dir.parent_path() / "dist_sigint.log");
  const std::string log = ReadText(dir.parent_path() / "dist_sigint.log");
  const model::ModelInfo info = model::LoadModelInfo(dir);
  EXPECT_GE(info.iteration, 3);
  EXPECT_EQ(static_cast<size_t>(info.iteration), LossRows(dir / "loss.csv").size());
  EXPECT_EQ(info.backups.size(), 1u) << "saved more than once";
  size_t saves = 0;
  for (size_t at = log.find("saved at iteration"); at != std::string::npos; at = log.find("saved at iteration", at + 1)) {
    ++saves;
  }
  EXPECT_EQ(saves, 1u) << log;
  const std::vector<std::string> sums = LoggedChecksums(log);
  ASSERT_EQ(sums.size(), 2u) << log;
  EXPECT_EQ(sums[0], sums[1]) << "the ranks did not stop at the same step";
}

// Two ranks launched as torchrun would (rank 0 hosts the store). SIGTERM to rank 1: both
// stop at the same step and exit 0. Resumed, SIGKILL of rank 1: rank 0 sees its sockets
// close and exits 9 at once, long before its timeout. Resumed again, SIGSTOP of rank 0:
// rank 1 gives up after --rank-timeout and exits 9. The model folder keeps its last save.
TEST(DistributedSlow, TorchrunStyleRanksStopTogetherOnSigtermAndExitNineWhenOneIsLost) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  const fs::path dir = test::MakeTempDir("dist_lost");
  auto start_ranks = [&](Reaper& reaper, const std::string& name, int save_every, int timeout) {
    const std::string port = std::to_string(test::FreePort());
    // As torchrun does: one thread per rank through OMP_NUM_THREADS, no --threads.
    std::vector<std::string> args = TrainArguments(dir, 0, 2, 0, save_every);
    args.insert(args.end(), {"--rank-timeout", std::to_string(timeout) + "s"});
    std::vector<pid_t> pids;
    for (int rank = 0; rank < 2; ++rank) {
      const fs::path log = dir.parent_path() / (name + std::to_string(rank) + ".log");
      pids.push_back(Spawn(args,
                           {"RANK=" + std::to_string(rank), "WORLD_SIZE=2", "LOCAL_RANK=" + std::to_string(rank),
                            "LOCAL_WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port,
                            "OMP_NUM_THREADS=1"},
                           log));
      reaper.pids.push_back(pids.back());
    }
    return pids;
  };

  // Sends `signal` to rank `hit` once the run has `rows` loss rows; the other rank's exit
  // code, how long it took, and its log.
  struct Outcome {
    int code;
    double seconds;
    std::string log;
  };
  auto lose_a_rank = [&](const std::string& name, int save_every, int timeout, size_t rows, int hit, int signal) {
    Reaper reaper;
    const std::vector<pid_t> pids = start_ranks(reaper, name, save_every, timeout);
    const int other = 1 - hit;
    const fs::path log = dir.parent_path() / (name + std::to_string(other) + ".log");
    if (!WaitForRows(dir / "loss.csv", rows, std::chrono::seconds(180))) return Outcome{-2, 0, ReadText(log)};
    kill(pids[static_cast<size_t>(hit)], signal);
    const auto sent = Clock::now();
    const int code = reaper.Wait(pids[static_cast<size_t>(other)], std::chrono::seconds(timeout + 150));
    const Outcome outcome{code, std::chrono::duration<double>(Clock::now() - sent).count(), ReadText(log)};
    std::printf("%s to rank %d: rank %d exited with %d after %.2f s (timeout %d s)\n", strsignal(signal), hit, other,
                code, outcome.seconds, timeout);
    return outcome;
  };

  constexpr int kLongTimeout = 120;
  // SIGTERM to one rank only (not rank 0): its stop flag reaches the other at the next
  // step's agreement, both stop there, rank 0 saves once, and both exit 0.
  {
    Reaper reaper;
    const std::vector<pid_t> pids = start_ranks(reaper, "dist_term_rank", 100000, kLongTimeout);
    const fs::path log0 = dir.parent_path() / "dist_term_rank0.log";
    ASSERT_TRUE(WaitForRows(dir / "loss.csv", 2, std::chrono::seconds(180))) << ReadText(log0);
    kill(pids[1], SIGTERM);
    EXPECT_EQ(reaper.Wait(pids[1], std::chrono::seconds(90)), 0) << ReadText(dir.parent_path() / "dist_term_rank1.log");
    EXPECT_EQ(reaper.Wait(pids[0], std::chrono::seconds(90)), 0) << ReadText(log0);
    const std::string log = ReadText(log0);
    EXPECT_EQ(static_cast<size_t>(model::LoadModelInfo(dir).iteration), LossRows(dir / "loss.csv").size()) << log;
    const std::vector<std::string> sums = LoggedChecksums(log);
    ASSERT_EQ(sums.size(), 2u) << log;
    EXPECT_EQ(sums[0], sums[1]) << "the ranks did not stop at the same step";
  }

  // A dead rank: its sockets close and the other's next collective fails at once. Resumed,
  // it saves at the next multiple of 4 and is killed two steps later.
  const size_t first_save = (LossRows(dir / "loss.csv").size() / 4 + 1) * 4;
  const Outcome killed = lose_a_rank("dist_kill_rank", 4, kLongTimeout, first_save + 2, 1, SIGKILL);
  // It only has to finish the step it is in (seconds, more on a busy machine), not wait
  // for the timeout.
  EXPECT_EQ(killed.code, 9) << killed.log;
  EXPECT_LT(killed.seconds, kLongTimeout / 2) << killed.log;
  EXPECT_NE(killed.log.find("rank 0 lost the other ranks"), std::string::npos) << killed.log;
  const int64_t saved = model::LoadModelInfo(dir).iteration;
  EXPECT_GE(saved, static_cast<int64_t>(first_save));
  EXPECT_EQ(saved % 4, 0);
  EXPECT_EQ(model::Swapper(dir, model::DeviceKind::kCpu).info().iteration, saved);

  // A frozen rank: the other waits --rank-timeout, then gives up. No saves in this run, so
  // that no save of rank 0 outlasts the short timeout.
  constexpr int kShortTimeout = 8;
  const size_t rows_before = LossRows(dir / "loss.csv").size();
  const Outcome frozen = lose_a_rank("dist_stop_rank", 100000, kShortTimeout, rows_before + 2, 0, SIGSTOP);
  // The timeout runs from the first collective the frozen rank misses, which the other
  // reaches after the rest of its step (a few seconds; tens on a busy 2-core machine).
  EXPECT_EQ(frozen.code, 9) << frozen.log;
  EXPECT_GE(frozen.seconds, kShortTimeout - 1.0) << frozen.log;
  EXPECT_LT(frozen.seconds, kShortTimeout + 90.0) << frozen.log;
  EXPECT_NE(frozen.log.find("rank 1: distributed training: rank 1 lost the other ranks"), std::string::npos)
      << frozen.log;
  EXPECT_EQ(model::Swapper(dir, model::DeviceKind::kCpu).info().iteration, saved);
}

}  // namespace
}  // namespace faceswap::train
