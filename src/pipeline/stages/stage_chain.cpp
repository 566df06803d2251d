#include "stage_chain.h"

#include <map>

#include <pthread.h>
#include <spdlog/spdlog.h>

#include "faceswap/core/stop_signal.h"
#include "gap_bridge.h"

namespace faceswap::pipeline {
namespace {

double SecondsSince(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Names the stage threads so that `top -H`, perf and gdb show which stage is which.
void NameThisThread(const char* name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
}

}  // namespace

StageChain::StageChain(const ChainOptions& options, Source source, FaceStage& faces, SwapStage& swap,
                       CompositeFactory make_composite)
    : options_(options),
      source_(std::move(source)),
      faces_(faces),
      swap_(swap),
      decoded_(options.decoded_capacity),
      tracked_(options.tracked_capacity),
      swapped_(16),
      finished_(16) {
  for (int w = 0; w < std::max(1, options.composite_workers); ++w) composites_.push_back(make_composite());
}

StageChain::~StageChain() {
  for (auto* q : {&decoded_, &tracked_, &swapped_, &finished_}) q->Stop();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void StageChain::Fail(std::exception_ptr error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = error;
  }
  for (auto* q : {&decoded_, &tracked_, &swapped_, &finished_}) q->Stop();
}

void StageChain::Start(const char* name, std::function<void()> body) {
  threads_.emplace_back([this, name, body = std::move(body)] {
    NameThisThread(name);
    try {
      body();
    } catch (...) {
      Fail(std::current_exception());
    }
  });
}

StageTimes StageChain::times() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return times_;
}

void StageChain::SourceLoop() {
  while (!core::StopSignals::requested()) {
    const auto t = Clock::now();
    Item item;
    if (!source_(item.frame)) break;
    item.arrived = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      times_.source += SecondsSince(t);
    }
    if (options_.drop.real_time) {
      if (decoded_.stopped()) return;
      dropped_ += static_cast<int64_t>(decoded_.PushDroppingOldest(std::move(item)));
    } else if (!decoded_.Push(std::move(item))) {
      return;
    }
  }
  decoded_.Stop();
}

// Each frame goes on as soon as its faces are found, or through the gap bridge where the
// options allow it to hold frames until a lost face comes back.
void StageChain::FaceLoop() {
  int64_t sequence = 0;
  const double max_age = options_.drop.real_time ? options_.drop.max_age_seconds : 0;
  GapBridge bridge(faces_.align_options(), options_.bridge_frames);
  std::vector<Item> ready;
  auto pass_on = [&] {
    for (Item& done : ready) {
      done.sequence = sequence++;
      if (!tracked_.Push(std::move(done))) return false;
    }
    ready.clear();
    return true;
  };
  while (auto item = decoded_.Pop()) {
    if (max_age > 0 && SecondsSince(item->arrived) > max_age) {
      ++dropped_;  // it could not leave in time any more: better a newer frame
      continue;
    }
    const auto t = Clock::now();
    faces_.Process(*item);
    if (options_.bridge_frames == 0) {
      ready.push_back(std::move(*item));
    } else {
      bridge.Push(std::move(*item), ready);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      times_.faces += SecondsSince(t);
    }
    if (!pass_on()) return;
  }
  bridge.Flush(ready);
  if (!pass_on()) return;
  faces_.LogStats();
  if (bridge.bridged_faces() > 0) {
    spdlog::debug("gap bridge: {} faces drawn into tracking gaps", bridge.bridged_faces());
  }
  tracked_.Stop();
}

// Gathers faces over a few frames so that the network runs in batches: a batch of
// --batch faces, or as many frames (one face each is the usual clip); the lite network
// costs 23 ms for one face and 7.4 ms a face for 16 (micro_bench). In real time it takes
// what is queued now instead of waiting for a full batch.
void StageChain::SwapLoop() {
  const size_t batch = static_cast<size_t>(std::max(1, options_.batch_size));
  std::vector<Item> pending;
  size_t pending_faces = 0;
  auto run = [&] {
    const auto t = Clock::now();
    swap_.Process(pending);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      times_.network += SecondsSince(t);
    }
    for (Item& item : pending) {
      if (!swapped_.Push(std::move(item))) return false;
    }
    pending.clear();
    pending_faces = 0;
    return true;
  };
  while (auto item = tracked_.Pop()) {
    pending_faces += item->faces.size();
    pending.push_back(std::move(*item));
    if (options_.drop.real_time) {
      while (pending_faces < batch && pending.size() < batch) {
        auto more = tracked_.TryPop();
        if (!more) break;
        pending_faces += more->faces.size();
        pending.push_back(std::move(*more));
      }
    }
    if (options_.drop.real_time || pending_faces >= batch || pending.size() >= batch) {
      if (!run()) return;
    }
  }
  if (!pending.empty() && !run()) return;
  swapped_.Stop();
}

void StageChain::CompositeLoop(CompositeStage* stage) {
  while (auto item = swapped_.Pop()) {
    const auto t = Clock::now();
    stage->Process(*item);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      times_.composite += SecondsSince(t);
    }
    if (!finished_.Push(std::move(*item))) return;
  }
  if (--composites_running_ == 0) finished_.Stop();
}

// The composite workers finish frames out of order: a reorder buffer by sequence.
void StageChain::SinkLoop(const Sink& sink) {
  std::map<int64_t, Item> waiting;
  int64_t next = 0;
  auto hand_over = [&](Item& item) {
    const auto t = Clock::now();
    sink(item);
    std::lock_guard<std::mutex> lock(mutex_);
    times_.sink += SecondsSince(t);
  };
  while (auto item = finished_.Pop()) {
    waiting.emplace(item->sequence, std::move(*item));
    while (!waiting.empty() && waiting.begin()->first == next) {
      hand_over(waiting.begin()->second);
      waiting.erase(waiting.begin());
      ++next;
    }
  }
  for (auto& [sequence, item] : waiting) hand_over(item);  // gaps (after an error) keep order
}

void StageChain::Run(const Sink& sink) {
  composites_running_ = static_cast<int>(composites_.size());
  Start("fs-source", [this] { SourceLoop(); });
  Start("fs-faces", [this] { FaceLoop(); });
  Start("fs-network", [this] { SwapLoop(); });
  for (auto& stage : composites_) {
    Start("fs-composite", [this, s = stage.get()] { CompositeLoop(s); });
  }
  try {
    SinkLoop(sink);
  } catch (...) {
    Fail(std::current_exception());
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

}  // namespace faceswap::pipeline
