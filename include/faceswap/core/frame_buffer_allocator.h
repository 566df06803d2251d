#pragma once
// An OpenCV allocator for the large buffers a pipeline makes for every frame (decoded
// pictures) and that stay alive a while (queued frames), so that a fresh one is made for
// each frame and the last copy is freed on another thread.
//
// Why: with the default allocator, the frames in flight (convert keeps a lead of up to
// 256 MB of them) are memory touched for the first time, 4 kB at a time. On this project's
// 2-core VM a page fault costs ~11 us: a 10 s convert spent ~2.4 s of CPU (a tenth of
// the whole) faulting in 220k pages, half of them the decoder's frames. This allocator
// carves buffers out of 2 MB-aligned blocks advised for transparent huge pages (one fault
// per 2 MB where the kernel has them) and keeps each freed buffer for the next one of its
// size, so the steady state touches no new memory at all.
//
// Buffers of a size seen before are reused; new sizes are carved from the current block.
// What was carved is kept until the process ends (frames of one clip have one size); past
// kMaxBytes in all, further buffers come from OpenCV's own allocator, so a folder of photos
// of many sizes cannot grow it without bound. Thread-safe: any thread may free a buffer.

#include <opencv2/core/mat.hpp>

#include <cstddef>

namespace faceswap::core {

// The process's one instance (never destroyed: frames may outlive everything else).
cv::MatAllocator* FrameBufferAllocator();

// What the instance holds, for tests and logs.
struct FrameBufferStats {
  std::size_t carved_bytes = 0;  // taken from its blocks so far (in use or kept for reuse)
  std::size_t free_buffers = 0;  // buffers kept for reuse now
  std::size_t reused = 0;        // allocations served from a kept buffer
};
FrameBufferStats FrameBufferAllocatorStats();

}  // namespace faceswap::core
