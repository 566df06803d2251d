#include "face_stage.h"

#include <spdlog/spdlog.h>

namespace faceswap::pipeline {

FaceStage::FaceStage(face::Tracker tracker, FaceFilter& filter, model::Swapper& swapper, std::set<int64_t> keep_original)
    : tracker_(std::move(tracker)), filter_(filter), swapper_(swapper), keep_original_(std::move(keep_original)) {
  align_.size = swapper.resolution();
  align_.coverage = swapper.info().coverage;
}

void FaceStage::Process(Item& item) {
  if (keep_original_.count(item.frame.index)) item.original = item.frame.bgr.clone();
  const std::vector<face::Face> faces = tracker_.Update(item.frame.bgr, item.frame.seconds);
  item.cut = tracker_.last_frame_was_cut();
  for (const face::Face& f : faces) {
    if (!filter_.Swap(item.frame.bgr, item.frame.index, f, swapper_)) {
      ++faces_left_;
      tracks_left_.insert(f.track_id);
      // Somebody else for good: no more landmark fits for this face.
      if (filter_.Settled(f)) tracker_.Park(f.track_id);
      continue;
    }
    SwapJob job;
    job.face = f;
    job.aligned = face::Align(item.frame.bgr, f.points, align_);
    item.faces.push_back(std::move(job));
  }
  // Parked faces are still there (until redetections miss them): still left alone.
  faces_left_ += tracker_.parked_tracks();
  item.target = filter_.target();
}

void FaceStage::LogStats() const {
  const face::Tracker::Stats& ts = tracker_.stats();
  spdlog::debug("tracker: {} refits ({} second fits skipped), {} detections, {} CNN passes, {} tracks lost, {} parked",
                ts.refits, ts.refits_skipped, ts.detections, ts.cnn_runs, ts.lost, ts.parked);
}

}  // namespace faceswap::pipeline
