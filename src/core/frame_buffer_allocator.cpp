#include "faceswap/core/frame_buffer_allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "faceswap/core/huge_pages.h"

namespace faceswap::core {
namespace {

constexpr std::size_t kAlign = 64;                          // what OpenCV's SIMD code likes
constexpr std::size_t kHugePage = kHugePageBytes;
constexpr std::size_t kBlockBytes = std::size_t{64} << 20;  // mapped at a time; pages cost only when touched
constexpr std::size_t kMaxBytes = std::size_t{2} << 30;     // carved in all, then OpenCV's allocator

class Allocator final : public cv::MatAllocator {
 public:
  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data, size_t* step, cv::AccessFlag flags,
                         cv::UMatUsageFlags usage) const override {
    const cv::MatAllocator* fallback = cv::Mat::getStdAllocator();
    if (data) return fallback->allocate(dims, sizes, type, data, step, flags, usage);  // the caller's memory
    std::size_t total = CV_ELEM_SIZE(type);
    for (int i = dims - 1; i >= 0; --i) {
      if (step) step[i] = total;
      total *= static_cast<std::size_t>(sizes[i]);
    }
    uchar* buffer = Take(total);
    if (!buffer) return fallback->allocate(dims, sizes, type, nullptr, step, flags, usage);
    auto* u = new cv::UMatData(this);
    u->data = u->origdata = buffer;
    u->size = total;
    return u;
  }

  bool allocate(cv::UMatData* u, cv::AccessFlag, cv::UMatUsageFlags) const override { return u != nullptr; }

  void deallocate(cv::UMatData* u) const override {
    if (!u) return;
    {
      const std::lock_guard lock(mutex_);
      free_[Rounded(u->size)].push_back(u->origdata);
      ++stats_.free_buffers;
    }
    u->origdata = u->data = nullptr;
    delete u;
  }

  FrameBufferStats stats() const {
    const std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  static std::size_t Rounded(std::size_t bytes) { return (bytes + kAlign - 1) & ~(kAlign - 1); }

  // A kept buffer of this size, or a new one carved from the current block; nullptr when
  // the cap is reached or the kernel gives no memory.
  uchar* Take(std::size_t bytes) const {
    const std::size_t size = Rounded(bytes);
    const std::lock_guard lock(mutex_);
    auto kept = free_.find(size);
    if (kept != free_.end() && !kept->second.empty()) {
      uchar* buffer = kept->second.back();
      kept->second.pop_back();
      --stats_.free_buffers;
      ++stats_.reused;
      return buffer;
    }
    if (stats_.carved_bytes + size > kMaxBytes) return nullptr;
    if (block_left_ < size && !MapBlock(size)) return nullptr;
    uchar* buffer = block_next_;
    block_next_ += size;
    block_left_ -= size;
    stats_.carved_bytes += size;
    return buffer;
  }

  // A fresh block of at least `size` bytes starting on a 2 MB boundary (the rest of the
  // previous block is left unused: untouched pages cost nothing).
  bool MapBlock(std::size_t size) const {
    const std::size_t bytes = std::max(kBlockBytes, (size + kHugePage - 1) & ~(kHugePage - 1));
    void* mapped = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return false;
    const auto raw = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t begin = (raw + kHugePage - 1) & ~(kHugePage - 1);
    if (begin > raw) munmap(mapped, begin - raw);
    const std::uintptr_t tail = raw + bytes + kHugePage - (begin + bytes);
    if (tail) munmap(reinterpret_cast<void*>(begin + bytes), tail);
    AdviseHugePages(reinterpret_cast<void*>(begin), bytes);
    block_next_ = reinterpret_cast<uchar*>(begin);
    block_left_ = bytes;
    return true;
  }

  mutable std::mutex mutex_;
  mutable std::map<std::size_t, std::vector<uchar*>> free_;
  mutable uchar* block_next_ = nullptr;
  mutable std::size_t block_left_ = 0;
  mutable FrameBufferStats stats_;
};

Allocator& Instance() {
  static Allocator* const instance = new Allocator;  // never destroyed: frames may outlive main()
  return *instance;
}

}  // namespace

cv::MatAllocator* FrameBufferAllocator() { return &Instance(); }

FrameBufferStats FrameBufferAllocatorStats() { return Instance().stats(); }

}  // namespace faceswap::core
