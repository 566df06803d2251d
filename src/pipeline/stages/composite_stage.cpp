#include "composite_stage.h"

namespace faceswap::pipeline {

CompositeStage::CompositeStage(const CompositeOptions& options, const watermark::Payload& mark,
                               const watermark::EmbedOptions& mark_options, const std::string& color_space)
    : compositor_(options), mark_enabled_(mark_options.enabled), marker_(mark, mark_options), to_yuv_(color_space) {}

void CompositeStage::Process(Item& item) {
  video::Frame& frame = item.frame;
  regions_.clear();
  for (SwapJob& job : item.faces) {
    regions_.push_back(compositor_.Composite(frame.bgr, job.face, job.aligned, job.swapped).roi);
  }
  const bool mark_it = mark_enabled_ && !item.faces.empty();
  if (!frame.yuv420.empty()) {
    for (const cv::Rect& r : regions_) to_yuv_.Convert(frame.bgr, r, frame.yuv420);
    if (mark_it) {
      cv::Mat luma = frame.yuv420.rowRange(0, frame.bgr.rows);
      marker_.EmbedInLuma(frame.bgr, luma);
    }
    if (mark_it && !item.original.empty()) marker_.Embed(frame.bgr);  // the preview shows it too
  } else if (mark_it) {
    marker_.Embed(frame.bgr);
  }
}

}  // namespace faceswap::pipeline
