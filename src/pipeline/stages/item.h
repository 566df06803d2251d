#pragma once
// What flows between the stages of convert and live: one frame, the faces to swap in it,
// and what the network drew for each.

#include <opencv2/core.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "faceswap/face/align.h"
#include "faceswap/face/face.h"
#include "faceswap/model/swapper.h"
#include "faceswap/video/frame.h"

namespace faceswap::pipeline {

using Clock = std::chrono::steady_clock;

struct SwapJob {
  face::Face face;
  face::AlignedFace aligned;
  model::SwapOutput swapped;
};

struct Item {
  video::Frame frame;
  cv::Mat original;             // the frame before swapping, kept only where asked (previews)
  std::vector<SwapJob> faces;   // faces to swap (others were left out by the face stage)
  int target = -1;              // identity to draw them as, once the face stage knows (-1: not yet)
  bool cut = false;             // the frame starts a new shot (face::Tracker's cut test)
  int64_t sequence = -1;        // position among the frames that go on to the sink (no gaps)
  Clock::time_point arrived;    // when the source handed the frame over (live latency)
};

}  // namespace faceswap::pipeline
