#pragma once
// The stage chain that convert and live both run: a frame source, the face stage, the swap
// stage and a few composite workers, each on a named thread of its own, joined by bounded
// queues (core::JobQueue); the sink runs on the caller's thread and gets the frames back in
// order. Convert waits for every frame (its face stage may hold a few back until a lost
// face comes back: GapBridge); live never waits for the source: a full queue in
// front of the face stage drops its oldest frame, frames older than a bound are dropped
// before tracking, and the network takes whatever is queued rather than waiting for a full
// batch. Frames already past the face stage are never dropped.

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "composite_stage.h"
#include "face_stage.h"
#include "faceswap/core/job_queue.h"
#include "item.h"
#include "swap_stage.h"

namespace faceswap::pipeline {

struct DropPolicy {
  bool real_time = false;        // drop rather than wait (live)
  double max_age_seconds = 0;    // real time: frames older than this when tracking would start are dropped (0: no bound)
};

struct ChainOptions {
  size_t decoded_capacity = 8;   // frames between the source and the face stage
  size_t tracked_capacity = 8;   // frames between the face stage and the network (convert: a lead, see convert.cpp)
  int batch_size = 16;           // frames (or faces) per network call, at most
  int composite_workers = 2;
  // Frames the face stage may hold back while a lost face may come back (GapBridge; 0: none,
  // as live must).
  size_t bridge_frames = 0;
  DropPolicy drop;
};

// Busy seconds of each stage (they overlap, so these add up to more than the wall time).
struct StageTimes {
  double source = 0, faces = 0, network = 0, composite = 0, sink = 0;
};

class StageChain {
 public:
  using Source = std::function<bool(video::Frame&)>;   // false: no more frames
  using Sink = std::function<void(Item&)>;
  using CompositeFactory = std::function<std::unique_ptr<CompositeStage>()>;

  StageChain(const ChainOptions& options, Source source, FaceStage& faces, SwapStage& swap,
             CompositeFactory make_composite);
  ~StageChain();
  StageChain(const StageChain&) = delete;
  StageChain& operator=(const StageChain&) = delete;

  // Runs until the source ends or core::StopSignals asks to stop; hands each finished frame
  // to `sink`, in order, on this thread. Rethrows the first error of any stage.
  void Run(const Sink& sink);

  StageTimes times() const;
  int64_t dropped() const { return dropped_.load(); }  // frames dropped (real time only)

 private:
  void SourceLoop();
  void FaceLoop();
  void SwapLoop();
  void CompositeLoop(CompositeStage* stage);
  void SinkLoop(const Sink& sink);
  void Fail(std::exception_ptr error);
  void Start(const char* name, std::function<void()> body);

  ChainOptions options_;
  Source source_;
  FaceStage& faces_;
  SwapStage& swap_;
  std::vector<std::unique_ptr<CompositeStage>> composites_;
  core::JobQueue<Item> decoded_, tracked_, swapped_, finished_;
  std::vector<std::thread> threads_;
  std::atomic<int> composites_running_{0};
  std::atomic<int64_t> dropped_{0};
  mutable std::mutex mutex_;  // guards error_ and times_
  std::exception_ptr error_;
  StageTimes times_;
};

}  // namespace faceswap::pipeline
