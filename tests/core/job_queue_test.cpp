#include "faceswap/core/job_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace faceswap::core {
namespace {

TEST(JobQueue, PushDroppingOldestKeepsTheNewestAndCountsWhatItDropped) {
  JobQueue<int> queue(2);
  EXPECT_EQ(queue.PushDroppingOldest(1), 0u);
  EXPECT_EQ(queue.PushDroppingOldest(2), 0u);
  EXPECT_EQ(queue.PushDroppingOldest(3), 1u);  // 1 goes
  EXPECT_EQ(queue.PushDroppingOldest(4), 1u);  // 2 goes
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.Pop(), 3);
  EXPECT_EQ(queue.Pop(), 4);
}

TEST(JobQueue, TryPopNeverWaits) {
  JobQueue<int> queue(4);
  EXPECT_FALSE(queue.TryPop().has_value());
  queue.Push(7);
  EXPECT_EQ(queue.TryPop(), 7);
  EXPECT_FALSE(queue.TryPop().has_value());
}

TEST(JobQueue, StopDrainsThenEndsAndRefusesNewItems) {
  JobQueue<int> queue(4);
  queue.Push(1);
  queue.Stop();
  EXPECT_TRUE(queue.stopped());
  EXPECT_FALSE(queue.Push(2));
  EXPECT_EQ(queue.PushDroppingOldest(3), 0u);
  EXPECT_EQ(queue.Pop(), 1);
  EXPECT_FALSE(queue.Pop().has_value());
}

TEST(JobQueue, StopWakesABlockedPush) {
  JobQueue<int> queue(1);
  queue.Push(1);
  bool pushed = true;
  std::thread producer([&] { pushed = queue.Push(2); });  // blocks: full
  queue.Stop();
  producer.join();
  EXPECT_FALSE(pushed);
}

}  // namespace
}  // namespace faceswap::core
