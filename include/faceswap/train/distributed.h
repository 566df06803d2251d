#pragma once
// Where this process stands in a data-parallel training run, read from the environment
// the way PyTorch jobs are launched. LibTorch-free (the CLI fills it).
//
//   torchrun and most launchers: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
//     MASTER_ADDR, MASTER_PORT; with TORCHELASTIC_USE_AGENT_STORE=True the launcher hosts
//     the rendezvous store and every rank connects to it (faceswap train --nproc does too).
//   Slurm (srun): SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE or
//     SLURM_TASKS_PER_NODE, with MASTER_ADDR given by the job script (MASTER_PORT
//     defaults to 29500, PyTorch's default).
// Without either, the process trains alone and nothing is networked.

#include <functional>
#include <optional>
#include <string>

namespace faceswap::train {

inline constexpr int kDefaultMasterPort = 29500;

struct DistributedOptions {
  bool launched = false;        // started as one rank of a job (even a job of one rank)
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;           // index on this machine: picks the GPU
  int local_world_size = 1;     // ranks on this machine: they share its cores
  std::string master_addr;      // host of the rendezvous store (rank 0, or the launcher)
  int master_port = kDefaultMasterPort;
  bool launcher_hosts_store = false;  // every rank connects as a client (torchrun, --nproc)
  std::string attempt = "0";          // torchrun's restart count: keys of a restarted job are fresh
  // Threads for each rank from the environment (OMP_NUM_THREADS, else SLURM_CPUS_PER_TASK); 0: unset.
  int env_threads = 0;
  // How long a collective (one step's gradients, the stop flag) waits for the other ranks
  // before this rank gives up with DistributedError (exit 9). Rank 0's saves happen while
  // the others wait, so it must exceed the longest save.
  double timeout_seconds = 300;
  void Check() const;           // UsageError
};

// Looks names up with `lookup` (nullopt: unset); the default reads the process environment.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
std::optional<std::string> ProcessEnvironment(const std::string& name);

// Parses the variables above. A malformed or inconsistent value (RANK without
// WORLD_SIZE, RANK >= WORLD_SIZE, Slurm with several tasks but no MASTER_ADDR) is a
// UsageError naming the variable.
DistributedOptions ReadDistributedEnvironment(const EnvironmentLookup& lookup = ProcessEnvironment);

// LibTorch threads for this rank: an explicit --threads wins; then the environment's
// (OMP_NUM_THREADS, SLURM_CPUS_PER_TASK); else this machine's `cores` shared by its ranks,
// so that N ranks do not oversubscribe the cores.
int ThreadsPerRank(int requested, const DistributedOptions& options, int cores);

}  // namespace faceswap::train
