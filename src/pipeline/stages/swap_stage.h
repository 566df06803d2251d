#pragma once
// The swap stage: runs the network on the faces of a few frames at once (batches are
// several times cheaper per face) and stores what it drew in each job.

#include <vector>

#include "faceswap/blend/face_memory.h"
#include "item.h"

namespace faceswap::pipeline {

class SwapStage {
 public:
  // target: the identity to draw, -1 while not known (then the face stage's filter tells,
  // or, for models without identity descriptors, the decoder that redraws the faces best).
  SwapStage(model::Swapper& swapper, int batch_size, int target);

  // Swaps every face of these frames (as the identity their items name, once known), and
  // grows the covers its masks found by what changed on each tracked face
  // (blend::FaceMemory: the frames come in order here).
  void Process(std::vector<Item>& items);

 private:
  void RememberFace(double seconds, SwapJob& job);

  model::Swapper& swapper_;
  int batch_size_;
  int target_;
  blend::FaceMemory memory_;
  std::vector<cv::Point2f> points_;
  cv::Mat hull_, region_;
  face::AlignedFace mask_aligned_;  // the aligned face at the mask's side, when it is smaller
};

}  // namespace faceswap::pipeline
