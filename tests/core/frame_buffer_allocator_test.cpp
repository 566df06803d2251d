#include "faceswap/core/frame_buffer_allocator.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace faceswap::core {
namespace {

cv::Mat Fresh(int rows, int cols, int type) {
  cv::Mat mat;
  mat.allocator = FrameBufferAllocator();
  mat.create(rows, cols, type);
  return mat;
}

TEST(FrameBufferAllocator, ReusesAFreedBufferOfTheSameSize) {
  cv::Mat first = Fresh(1024, 576, CV_8UC3);
  const uchar* data = first.data;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(data) % 64, 0u);
  EXPECT_TRUE(first.isContinuous());
  first.setTo(cv::Scalar(1, 2, 3));
  first.release();
  const FrameBufferStats before = FrameBufferAllocatorStats();
  cv::Mat second = Fresh(1024, 576, CV_8UC3);
  EXPECT_EQ(second.data, data);
  EXPECT_EQ(FrameBufferAllocatorStats().reused, before.reused + 1);
  EXPECT_EQ(FrameBufferAllocatorStats().carved_bytes, before.carved_bytes);
}

TEST(FrameBufferAllocator, NeverHandsOutABufferStillHeld) {
  cv::Mat held = Fresh(480, 640, CV_8UC3);
  held.setTo(cv::Scalar(7, 8, 9));
  const cv::Mat copy = held;  // a queue's reference
  held.release();             // the producer lets go; the copy still holds the pixels
  cv::Mat next = Fresh(480, 640, CV_8UC3);
  EXPECT_NE(next.data, copy.data);
  next.setTo(cv::Scalar(0, 0, 0));
  const cv::Scalar sum = cv::sum(copy);
  EXPECT_EQ(sum[0], 7.0 * 480 * 640);
  EXPECT_EQ(sum[2], 9.0 * 480 * 640);
}

TEST(FrameBufferAllocator, ABufferFreedOnAnotherThreadComesBack) {
  cv::Mat frame = Fresh(720, 1280, CV_8UC1);
  const uchar* data = frame.data;
  std::thread consumer([copy = frame]() mutable { copy.release(); });
  frame.release();
  consumer.join();
  EXPECT_EQ(Fresh(720, 1280, CV_8UC1).data, data);
}

TEST(FrameBufferAllocator, OpenCvWritesIntoItsBuffers) {
  cv::Mat source(300, 200, CV_8UC3);
  cv::randu(source, 0, 255);
  cv::Mat blurred = Fresh(300, 200, CV_8UC3);
  const uchar* data = blurred.data;
  cv::GaussianBlur(source, blurred, cv::Size(5, 5), 1.5);  // same size and type: written in place
  EXPECT_EQ(blurred.data, data);
  cv::Mat expected;
  cv::GaussianBlur(source, expected, cv::Size(5, 5), 1.5);
  EXPECT_EQ(cv::norm(blurred, expected, cv::NORM_INF), 0.0);
}

TEST(FrameBufferAllocator, ThreadsPassingFramesKeepTheirPixels) {
  // Two producers hand frames through a short queue (as the pipeline's stages do) to one
  // consumer, which checks each frame's value and frees it; a buffer given out twice at
  // once would show another frame's value. The short queue makes the buffers cycle.
  constexpr int kFrames = 300;
  constexpr size_t kQueue = 4;
  std::vector<std::pair<int, cv::Mat>> queue;
  std::mutex mutex;
  std::condition_variable changed;
  std::atomic<int> bad{0};
  const size_t reused_before = FrameBufferAllocatorStats().reused;
  auto produce = [&](int tag) {
    for (int i = 0; i < kFrames; ++i) {
      cv::Mat frame = Fresh(96 + (i % 3) * 32, 128, CV_8UC1);
      const int value = (tag * 97 + i) % 251;
      frame.setTo(cv::Scalar(value));
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return queue.size() < kQueue; });
      queue.emplace_back(value, std::move(frame));
      changed.notify_all();
    }
  };
  std::thread a(produce, 1), b(produce, 2);
  for (int seen = 0; seen < 2 * kFrames;) {
    std::vector<std::pair<int, cv::Mat>> taken;
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return !queue.empty(); });
      taken.swap(queue);
      changed.notify_all();
    }
    for (auto& [value, frame] : taken) {
      double low = 0, high = 0;
      cv::minMaxLoc(frame, &low, &high);
      if (low != value || high != value) ++bad;
      frame.release();
      ++seen;
    }
  }
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(FrameBufferAllocatorStats().reused, reused_before + kFrames);
}

}  // namespace
}  // namespace faceswap::core
