#include "faceswap/train/distributed.h"

#include <algorithm>
#include <cstdlib>

#include "faceswap/core/error.h"

namespace faceswap::train {
namespace {

// A whole non-negative decimal number, or UsageError naming the variable.
int ParseCount(const std::string& name, const std::string& text) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw UsageError("environment variable " + name + "='" + text + "' is not a whole number");
  }
  return std::stoi(text);
}

std::optional<int> Count(const EnvironmentLookup& lookup, const std::string& name) {
  const auto text = lookup(name);
  if (!text) return std::nullopt;
  return ParseCount(name, *text);
}

// SLURM_TASKS_PER_NODE reads like "4(x2),3": the first node's count is taken (jobs whose
// nodes run different task counts should set SLURM_NTASKS_PER_NODE).
std::optional<int> SlurmTasksPerNode(const EnvironmentLookup& lookup) {
  if (auto n = Count(lookup, "SLURM_NTASKS_PER_NODE")) return n;
  const auto text = lookup("SLURM_TASKS_PER_NODE");
  if (!text) return std::nullopt;
  const std::string first = text->substr(0, text->find_first_not_of("0123456789"));
  return ParseCount("SLURM_TASKS_PER_NODE", first);
}

}  // namespace

std::optional<std::string> ProcessEnvironment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

void DistributedOptions::Check() const {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw UsageError("distributed training: rank " + std::to_string(rank) + " is outside a world of " +
                     std::to_string(world_size) + " ranks (RANK must be 0..WORLD_SIZE-1)");
  }
  if (local_world_size < 1 || local_rank < 0 || local_rank >= local_world_size) {
    throw UsageError("distributed training: local rank " + std::to_string(local_rank) + " is outside the " +
                     std::to_string(local_world_size) + " ranks of this machine");
  }
  if (launched && master_addr.empty()) {
    throw UsageError("distributed training needs MASTER_ADDR (the host of rank 0) in the environment");
  }
  if (launched && (master_port < 1 || master_port > 65535)) {
    throw UsageError("distributed training: MASTER_PORT " + std::to_string(master_port) + " is not a port (1-65535)");
  }
  if (timeout_seconds <= 0) throw UsageError("distributed training: the rank timeout must be positive");
}

DistributedOptions ReadDistributedEnvironment(const EnvironmentLookup& lookup) {
  DistributedOptions options;
  const auto rank = Count(lookup, "RANK");
  const auto world = Count(lookup, "WORLD_SIZE");
  if (rank || world) {
    if (!rank || !world) throw UsageError("distributed training needs both RANK and WORLD_SIZE in the environment");
    options.launched = true;
    options.rank = *rank;
    options.world_size = *world;
    options.local_rank = Count(lookup, "LOCAL_RANK").value_or(0);
    options.local_world_size = Count(lookup, "LOCAL_WORLD_SIZE").value_or(std::max(1, options.local_rank + 1));
    const auto use_agent = lookup("TORCHELASTIC_USE_AGENT_STORE");
    options.launcher_hosts_store = use_agent && *use_agent == "True";
    options.attempt = lookup("TORCHELASTIC_RESTART_COUNT").value_or("0");
  } else if (const auto tasks = Count(lookup, "SLURM_NTASKS"); tasks && (*tasks > 1 || lookup("MASTER_ADDR"))) {
    // One Slurm task alone without MASTER_ADDR is an ordinary run inside an allocation.
    options.launched = true;
    options.world_size = *tasks;
    const auto procid = Count(lookup, "SLURM_PROCID");
    if (!procid) throw UsageError("Slurm job of " + std::to_string(*tasks) + " tasks without SLURM_PROCID: start it with srun");
    options.rank = *procid;
    options.local_rank = Count(lookup, "SLURM_LOCALID").value_or(0);
    options.local_world_size = std::max(SlurmTasksPerNode(lookup).value_or(1), options.local_rank + 1);
    if (!lookup("MASTER_ADDR")) {
      throw UsageError("Slurm job of " + std::to_string(*tasks) +
                       " tasks: set MASTER_ADDR to the first node of the job (see README, \"Training on several "
                       "GPUs or machines\")");
    }
  } else {
    return options;
  }
  // Read only for a rank: a plain run leaves OMP_NUM_THREADS (which may read "4,2") to OpenMP.
  if (auto threads = Count(lookup, "OMP_NUM_THREADS")) {
    options.env_threads = *threads;
  } else if (auto cpus = Count(lookup, "SLURM_CPUS_PER_TASK")) {
    options.env_threads = *cpus;
  }
  options.master_addr = lookup("MASTER_ADDR").value_or("");
  options.master_port = Count(lookup, "MASTER_PORT").value_or(kDefaultMasterPort);
  options.Check();
  return options;
}

int ThreadsPerRank(int requested, const DistributedOptions& options, int cores) {
  if (requested > 0) return requested;
  if (options.env_threads > 0) return options.env_threads;
  return std::max(1, cores / std::max(1, options.local_world_size));
}

}  // namespace faceswap::train
