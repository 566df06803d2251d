#pragma once
// train::ProcessGroup: data-parallel training over PyTorch's c10d, as DDP does it.
// Includes LibTorch; only train/ includes it.
//
// Every rank holds the whole network. Rank 0's weights and optimiser state are broadcast
// once; then each step every rank runs forward and backward on its own faces, the
// gradients are averaged by all-reduce (Gloo on CPU, NCCL on CUDA), and every rank takes
// the same optimiser step, so the weights stay bitwise identical. A small all-reduce per
// step agrees on the losses (averaged) and on stopping (any rank's Ctrl-C, SIGTERM or
// time budget stops all at the same step).
//
// Gradients travel in a few large flat buckets (parameters in reverse order, as backward
// produces them). A hook on each parameter copies its gradient into its bucket as soon as
// autograd has computed it, and a full bucket is all-reduced at once, while backward goes
// on with the layers before it. Buckets start strictly in order on every rank: collectives
// must be issued in the same order everywhere.
//
// A rank that dies closes its sockets: the others' next collective fails at once. A rank
// that hangs is given up on after DistributedOptions::timeout_seconds. Either way every
// collective here throws DistributedError (exit 9) with one line saying what happened.
//
// Default-constructed, the group is one rank alone: every call is a no-op.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "faceswap/train/distributed.h"

namespace faceswap::train {

// What every rank agreed on after a step.
struct StepAgreement {
  std::vector<double> losses;  // the ranks' losses, averaged (non-finite if any rank's was)
  bool stop_signal = false;    // some rank got SIGINT/SIGTERM
  bool time_up = false;        // some rank's time budget ran out
  bool stop() const { return stop_signal || time_up; }
};

// Time this rank spent blocked on communication, for the logs and the benchmark.
struct CommunicationTime {
  int64_t steps = 0;
  double gradient_wait_seconds = 0;   // AverageGradients after backward returned
  double agreement_seconds = 0;       // Agree
  int64_t buckets_started_in_backward = 0;  // summed over steps: how much overlap the hooks gave
  double per_step_ms() const { return steps ? 1000 * (gradient_wait_seconds + agreement_seconds) / steps : 0; }
};

class ProcessGroup {
 public:
  ProcessGroup();  // alone
  // Joins the ranks of `options` (rendezvous through a c10d::TCPStore, then Gloo, or NCCL
  // when `device` is CUDA). Waits up to kJoinTimeoutSeconds for all of them.
  ProcessGroup(const DistributedOptions& options, torch::Device device);
  ~ProcessGroup();
  ProcessGroup(ProcessGroup&&) noexcept;
  ProcessGroup& operator=(ProcessGroup&&) noexcept;

  int rank() const;
  int size() const;
  bool alone() const { return size() == 1 && !joined(); }
  bool joined() const;
  std::string backend() const;  // "gloo", "nccl" or "none"

  // Rank 0's parameters and buffers, optimiser state and `numbers` replace everyone's.
  void BroadcastState(torch::nn::Module& net, torch::optim::Optimizer& optimizer, std::vector<int64_t>& numbers);

  // From now on, backward all-reduces these parameters' gradients bucket by bucket.
  void WatchGradients(const std::vector<torch::Tensor>& parameters);
  // After backward: waits for every bucket and writes the averaged gradients back.
  void AverageGradients();

  // Averages the losses and ORs the flags over all ranks.
  StepAgreement Agree(const std::vector<double>& losses, bool stop_signal, bool time_up);

  // Every rank's value, in rank order.
  std::vector<uint64_t> AllGather(uint64_t value);

  const CommunicationTime& communication() const;
  int64_t bucket_count() const;
  int64_t gradient_bytes() const;

  static constexpr double kJoinTimeoutSeconds = 30 * 60;  // ranks may start minutes apart (face extraction)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// FNV-1a over the bytes of every parameter and buffer, in order: equal on two ranks only
// when their weights are bitwise equal.
uint64_t WeightsChecksum(torch::nn::Module& net);

}  // namespace faceswap::train
