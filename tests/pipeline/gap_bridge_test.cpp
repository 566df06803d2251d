// Convert's bridge over short tracking gaps (src/pipeline/stages/gap_bridge.h): frames in
// which a swapped face went missing are held until it comes back and then carry it, with
// landmarks between the two ends; long gaps, gaps across a cut and faces that come back
// elsewhere are not bridged, and nothing held is lost at the end of a clip.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "faceswap/face/align.h"
#include "gap_bridge.h"

namespace faceswap::pipeline {
namespace {

constexpr double kFps = 30.0;
constexpr int kTrack = 7;

// The mean face at `scale` pixels, its top-left at (x, y); the jaw (points 0-16, which
// the template leaves out) on a half circle under it.
face::Face FaceAt(float x, float y, float scale = 100) {
  face::Face f;
  const auto& mean = face::MeanFaceTemplate();
  for (int i = 0; i < face::kTemplatePoints; ++i) {
    f.points[face::kTemplateFirst + i] = {x + scale * static_cast<float>(mean[i].x),
                                          y + scale * static_cast<float>(mean[i].y)};
  }
  for (int i = 0; i < face::kTemplateFirst; ++i) {
    const double a = CV_PI * i / (face::kTemplateFirst - 1);
    f.points[i] = {x + scale * static_cast<float>(0.5 - 0.5 * std::cos(a)),
                   y + scale * static_cast<float>(0.5 + 0.5 * std::sin(a))};
  }
  f.box = face::LandmarkBounds(f.points);
  f.track_id = kTrack;
  f.score = 0.9f;
  return f;
}

Item Frame(int index, const std::vector<face::Face>& faces) {
  Item item;
  item.frame.index = index;
  item.frame.seconds = index / kFps;
  item.frame.bgr = cv::Mat(360, 480, CV_8UC3, cv::Scalar(90, 120, 150));
  item.target = 1;
  for (const face::Face& f : faces) {
    SwapJob job;
    job.face = f;
    item.faces.push_back(std::move(job));
  }
  return item;
}

std::vector<int> Indices(const std::vector<Item>& items) {
  std::vector<int> out;
  for (const Item& item : items) out.push_back(static_cast<int>(item.frame.index));
  return out;
}

face::AlignOptions Align() {
  face::AlignOptions options;
  options.size = 64;
  return options;
}

TEST(GapBridge, FramesWithoutTheFaceWaitForItAndThenCarryItBetweenBothEnds) {
  GapBridge bridge(Align(), 16);
  std::vector<Item> ready;
  const face::Face before = FaceAt(100, 80), after = FaceAt(120, 84);
  bridge.Push(Frame(0, {before}), ready);
  bridge.Push(Frame(1, {before}), ready);
  EXPECT_EQ(Indices(ready), (std::vector<int>{0, 1}));
  for (int i = 2; i <= 4; ++i) {
    bridge.Push(Frame(i, {}), ready);
    EXPECT_EQ(ready.size(), 2u) << "frame " << i << " must wait for the face";
  }
  bridge.Push(Frame(5, {after}), ready);
  ASSERT_EQ(Indices(ready), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(bridge.bridged_faces(), 3);
  for (int i = 2; i <= 4; ++i) {
    ASSERT_EQ(ready[i].faces.size(), 1u) << "frame " << i;
    const SwapJob& job = ready[i].faces[0];
    EXPECT_EQ(job.face.track_id, kTrack);
    EXPECT_EQ(job.aligned.crop.size(), cv::Size(64, 64));
    // Frame 1 to frame 5: frame i lies (i - 1) / 4 of the way.
    const float w = (i - 1) / 4.0f;
    EXPECT_NEAR(job.face.points[30].x, before.points[30].x + w * (after.points[30].x - before.points[30].x), 1e-3);
    EXPECT_NEAR(job.face.points[30].y, before.points[30].y + w * (after.points[30].y - before.points[30].y), 1e-3);
  }
}

TEST(GapBridge, LongGapsAndFacesBackElsewhereStayAsTheyWere) {
  GapBridge bridge(Align(), 16);
  std::vector<Item> ready;
  bridge.Push(Frame(0, {FaceAt(100, 80)}), ready);
  // Gone for 20 frames (0.67 s): the held frames go on without it once half a second passed.
  for (int i = 1; i <= 20; ++i) bridge.Push(Frame(i, {}), ready);
  EXPECT_GE(ready.size(), 15u);
  bridge.Push(Frame(21, {FaceAt(100, 80)}), ready);
  ASSERT_EQ(ready.size(), 22u);
  for (int i = 1; i <= 20; ++i) EXPECT_TRUE(ready[i].faces.empty()) << "frame " << i;
  // Back after 3 frames, but two face widths to the right: somebody or something else.
  ready.clear();
  for (int i = 22; i <= 24; ++i) bridge.Push(Frame(i, {}), ready);
  bridge.Push(Frame(25, {FaceAt(300, 80)}), ready);
  ASSERT_EQ(Indices(ready), (std::vector<int>{22, 23, 24, 25}));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(ready[i].faces.empty());
  EXPECT_EQ(bridge.bridged_faces(), 0);
}

TEST(GapBridge, GapsAcrossACutStayAsTheyWere) {
  GapBridge bridge(Align(), 16);
  std::vector<Item> ready;
  bridge.Push(Frame(0, {FaceAt(100, 80)}), ready);
  bridge.Push(Frame(1, {}), ready);
  Item cut = Frame(2, {});
  cut.cut = true;  // another shot from here on: the face there is not the one that left
  bridge.Push(std::move(cut), ready);
  bridge.Push(Frame(3, {FaceAt(102, 80)}), ready);
  ASSERT_EQ(Indices(ready), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(ready[1].faces.empty());
  EXPECT_TRUE(ready[2].faces.empty());
  EXPECT_EQ(bridge.bridged_faces(), 0);
}

TEST(GapBridge, WhatIsHeldAtTheEndGoesOnUnchanged) {
  GapBridge bridge(Align(), 16);
  std::vector<Item> ready;
  bridge.Push(Frame(0, {FaceAt(100, 80)}), ready);
  bridge.Push(Frame(1, {}), ready);
  bridge.Push(Frame(2, {}), ready);
  EXPECT_EQ(ready.size(), 1u);
  bridge.Flush(ready);
  ASSERT_EQ(Indices(ready), (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(ready[1].faces.empty());
  EXPECT_TRUE(ready[2].faces.empty());
}

}  // namespace
}  // namespace faceswap::pipeline
