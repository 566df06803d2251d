#include "faceswap/cli/commands.h"

#include <csignal>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // Frames, face regions and LibTorch's activations are megabyte buffers allocated and
  // freed every frame. By default glibc maps each from the kernel afresh and gives it back
  // on free, so every frame page-faults its buffers in again: on a 10 s convert that was
  // 278k faults and 13% of the CPU time (perf stat, scripts/bench_convert.sh). Keeping
  // freed memory for reuse costs some resident memory (the peak stays held) and removes most.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);   // glibc's largest allowed threshold
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  // Training ranks talk over TCP sockets (Gloo). When another rank dies, the next write to
  // its socket would raise SIGPIPE and kill this process silently (exit 141, CI saw it),
  // before the lost-rank handling can save and say what happened. Ignored, the write fails
  // with EPIPE, Gloo throws, and the trainer reports the lost rank and exits 9.
  std::signal(SIGPIPE, SIG_IGN);
  return faceswap::cli::Main(argc, argv);
}
