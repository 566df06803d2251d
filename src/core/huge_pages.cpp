#include "faceswap/core/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace faceswap::core {

void AdviseHugePages(void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = kHugePageBytes;
  const auto begin = reinterpret_cast<std::uintptr_t>(data), end = begin + bytes;
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1), last = end & ~(kHuge - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace faceswap::core
