#pragma once
// Asks the kernel for 2 MB pages over the whole 2 MB pages inside [data, data + bytes), for a
// large block about to be filled once: 80 MB of fresh 4 kB pages cost ~0.3 s of page faults
// on this project's 2-core VM, more than filling them. Only advice (Linux madvise
// MADV_HUGEPAGE): where transparent huge pages are off, nothing changes.

#include <cstddef>

namespace faceswap::core {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;  // x86-64's transparent huge page

void AdviseHugePages(void* data, std::size_t bytes);

}  // namespace faceswap::core
