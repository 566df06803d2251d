#pragma once
// The composite stage: puts the drawn faces back into their frame (colour, mask, blend),
// brings the change over to the kept 4:2:0 picture and marks the frame with the invisible
// watermark. One per worker thread: it keeps its buffers and the mark's pattern.

#include <string>
#include <vector>

#include "faceswap/pipeline/composite.h"
#include "faceswap/video/yuv420.h"
#include "faceswap/watermark/watermark.h"
#include "item.h"

namespace faceswap::pipeline {

class CompositeStage {
 public:
  CompositeStage(const CompositeOptions& options, const watermark::Payload& mark,
                 const watermark::EmbedOptions& mark_options, const std::string& color_space);

  void Process(Item& item);

 private:
  FaceCompositor compositor_;
  bool mark_enabled_;
  watermark::Embedder marker_;
  video::Yuv420Converter to_yuv_;
  std::vector<cv::Rect> regions_;
};

}  // namespace faceswap::pipeline
