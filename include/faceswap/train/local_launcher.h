#pragma once
// `faceswap train --nproc N`: N data-parallel ranks on this machine, each a child process
// of this same binary with this same command line, told its rank through the variables
// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE). The launcher hosts their rendezvous store itself (on an
// ephemeral loopback port, so two runs never collide), splits the CPU threads between them
// (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS), forwards SIGINT and SIGTERM to them and waits.
// LibTorch-free header.

#include <string>

namespace faceswap::train {

struct LocalLaunch {
  int ranks = 2;
  int threads = 0;               // CPU threads of all ranks together (0: all cores)
  double timeout_seconds = 300;  // the ranks' timeout: after one fails, the rest get this long to stop
};

// Starts the ranks and returns once all have exited 0. When one fails, the others are sent
// SIGTERM (and SIGKILL after the timeout), and this throws an Error with the failed rank's
// own exit code (DistributedError when it was killed by a signal).
void RunLocalRanks(const LocalLaunch& launch);

// True in a process that RunLocalRanks started: its launcher holds the model folder's
// lock, and its --threads (the total) has already been split into OMP_NUM_THREADS.
bool StartedByLocalLauncher();

// Threads for each of `ranks` local ranks out of `threads` (0: `cores`), at least one.
int SplitThreads(int threads, int ranks, int cores);

}  // namespace faceswap::train
