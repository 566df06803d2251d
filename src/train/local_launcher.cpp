#include "faceswap/train/local_launcher.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "faceswap/core/error.h"
#include "tcp_store_options.h"

extern char** environ;

namespace faceswap::train {
namespace {

constexpr const char* kLauncherVariable = "FACESWAP_LAUNCHER_PID";

volatile sig_atomic_t g_forward_signal = 0;
extern "C" void OnLauncherSignal(int signal) { g_forward_signal = signal; }

// The command line this process was started with, argv[0] included.
std::vector<std::string> OwnArguments() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> arguments;
  size_t begin = 0;
  while (begin < all.size()) {
    const size_t end = all.find('\0', begin);
    arguments.push_back(all.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return arguments;
}

std::string OwnExecutable() {
  std::vector<char> path(4096);
  const ssize_t n = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) throw Error(ExitCode::kInternal, "train --nproc: cannot find this program (/proc/self/exe)");
  return std::string(path.data(), static_cast<size_t>(n));
}

// This process's environment without the variables that describe a rank, plus `set`.
std::vector<std::string> RankEnvironment(const std::vector<std::pair<std::string, std::string>>& set) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [key, value] : set) replaced |= key == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [key, value] : set) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

struct Rank {
  pid_t pid = -1;
  bool running = false;
  int status = 0;
};

std::string Describe(int rank, const Rank& r) {
  const std::string who = "rank " + std::to_string(rank) + " (pid " + std::to_string(r.pid) + ")";
  if (WIFSIGNALED(r.status)) {
    return who + " was killed by signal " + std::to_string(WTERMSIG(r.status)) + " (" + strsignal(WTERMSIG(r.status)) + ")";
  }
  return who + " exited with code " + std::to_string(WEXITSTATUS(r.status));
}

}  // namespace

bool StartedByLocalLauncher() { return std::getenv(kLauncherVariable) != nullptr; }

int SplitThreads(int threads, int ranks, int cores) {
  const int total = threads > 0 ? threads : cores;
  return std::max(1, total / std::max(1, ranks));
}

void RunLocalRanks(const LocalLaunch& launch) {
  if (launch.ranks < 1) throw UsageError("--nproc must be at least 1");
  const int threads = SplitThreads(launch.threads, launch.ranks,
                                   static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  // The rendezvous store lives here, on a port the kernel picks: the ranks only connect.
  c10d::TCPStoreOptions store_options = detail::TcpStoreOptions();
  store_options.port = 0;
  store_options.isServer = true;
  store_options.waitWorkers = false;
  c10d::TCPStore store("127.0.0.1", store_options);
  const std::string port = std::to_string(store.getPort());
  spdlog::info("starting {} ranks on this machine, {} thread{} each (rendezvous on 127.0.0.1:{})", launch.ranks,
               threads, threads == 1 ? "" : "s", port);

  const std::string executable = OwnExecutable();
  std::vector<std::string> arguments = OwnArguments();
  std::vector<char*> argv = Pointers(arguments);
  const pid_t launcher = getpid();

  struct sigaction action {}, old_int {}, old_term {};
  action.sa_handler = OnLauncherSignal;
  sigemptyset(&action.sa_mask);
  g_forward_signal = 0;
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  struct RestoreHandlers {
    struct sigaction* old_int;
    struct sigaction* old_term;
    ~RestoreHandlers() {
      sigaction(SIGINT, old_int, nullptr);
      sigaction(SIGTERM, old_term, nullptr);
    }
  } restore{&old_int, &old_term};

  std::vector<Rank> ranks(static_cast<size_t>(launch.ranks));
  auto signal_all = [&](int signal) {
    for (const Rank& r : ranks) {
      if (r.running) kill(r.pid, signal);
    }
  };
  for (int rank = 0; rank < launch.ranks; ++rank) {
    std::vector<std::string> env = RankEnvironment({{"RANK", std::to_string(rank)},
                                                    {"WORLD_SIZE", std::to_string(launch.ranks)},
                                                    {"LOCAL_RANK", std::to_string(rank)},
                                                    {"LOCAL_WORLD_SIZE", std::to_string(launch.ranks)},
                                                    {"MASTER_ADDR", "127.0.0.1"},
                                                    {"MASTER_PORT", port},
                                                    {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                                    {"TORCHELASTIC_RESTART_COUNT", "0"},
                                                    {"OMP_NUM_THREADS", std::to_string(threads)},
                                                    {"OPENBLAS_NUM_THREADS", std::to_string(threads)},
                                                    {kLauncherVariable, std::to_string(launcher)}});
    std::vector<char*> envp = Pointers(env);
    const pid_t pid = fork();
    if (pid < 0) {
      signal_all(SIGTERM);
      throw Error(ExitCode::kInternal, std::string("train --nproc: cannot start a rank: ") + std::strerror(errno));
    }
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec. A rank whose launcher dies
      // is told to stop as if by Ctrl-C.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != launcher) _exit(static_cast<int>(ExitCode::kDistributed));
      execve(executable.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    ranks[static_cast<size_t>(rank)] = {pid, true, 0};
  }

  // Wait for all; forward signals; after a failure, give the others the timeout to stop.
  int first_failed = -1;
  auto kill_deadline = std::chrono::steady_clock::time_point::max();
  int running = launch.ranks;
  while (running > 0) {
    if (const int signal = g_forward_signal) {
      g_forward_signal = 0;
      spdlog::info("train --nproc: passing {} on to the ranks", strsignal(signal));
      signal_all(signal);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t r = 0; r < ranks.size(); ++r) {
        if (ranks[r].pid != pid || !ranks[r].running) continue;
        ranks[r].running = false;
        ranks[r].status = status;
        --running;
        const bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        if (failed && first_failed < 0) {
          first_failed = static_cast<int>(r);
          spdlog::warn("train --nproc: {}; stopping the other ranks", Describe(first_failed, ranks[r]));
          signal_all(SIGTERM);
          kill_deadline = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(1000 * launch.timeout_seconds) + 10000);
        }
      }
      continue;
    }
    if (std::chrono::steady_clock::now() > kill_deadline) {
      signal_all(SIGKILL);
      kill_deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (first_failed < 0) return;
  const Rank& failed = ranks[static_cast<size_t>(first_failed)];
  const std::string message = "train --nproc: " + Describe(first_failed, failed) + "; the model folder keeps its last save";
  if (WIFEXITED(failed.status)) throw Error(static_cast<ExitCode>(WEXITSTATUS(failed.status)), message);
  throw DistributedError(message);
}

}  // namespace faceswap::train
