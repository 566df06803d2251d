#pragma once
// A bounded queue between pipeline threads: Push blocks while full, Pop blocks while
// empty, Stop wakes everyone (Push then drops, Pop drains what is left and then fails).
// Real-time producers (faceswap live) use PushDroppingOldest instead, which never blocks:
// a full queue loses its oldest item, so what waits is always the newest.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace faceswap::core {

template <typename T>
class JobQueue {
 public:
  explicit JobQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // False when the queue was stopped (the item is dropped).
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return stopped_ || items_.size() < capacity_; });
    if (stopped_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Never blocks: when full, the oldest item makes room and is counted as dropped.
  // Returns how many items were dropped (0 or 1); false-like 0 also when stopped.
  size_t PushDroppingOldest(T item) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return 0;
    size_t dropped = 0;
    if (items_.size() >= capacity_) {
      items_.pop_front();
      dropped = 1;
    }
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return dropped;
  }

  // An item if one is waiting now; never blocks.
  std::optional<T> TryPop() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  bool stopped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
  }

  // Nothing once stopped and empty.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return stopped_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  void Stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool stopped_ = false;
};

}  // namespace faceswap::core
