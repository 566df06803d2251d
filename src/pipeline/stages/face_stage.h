#pragma once
// The face stage: tracks the faces of each frame, keeps those the filter chooses and cuts
// their aligned crops for the network. One thread (the tracker follows frames in order).

#include <cstdint>
#include <set>

#include "face_filter.h"
#include "faceswap/face/align.h"
#include "faceswap/face/tracker.h"
#include "item.h"

namespace faceswap::pipeline {

class FaceStage {
 public:
  // keep_original: frame indices whose untouched picture the item keeps (previews).
  FaceStage(face::Tracker tracker, FaceFilter& filter, model::Swapper& swapper, std::set<int64_t> keep_original = {});

  void Process(Item& item);
  void LogStats() const;  // the tracker's counters, at debug level

  const face::AlignOptions& align_options() const { return align_; }
  int64_t faces_left() const { return faces_left_; }   // faces of other people, left alone
  int64_t tracks_left() const { return static_cast<int64_t>(tracks_left_.size()); }

 private:
  face::Tracker tracker_;
  FaceFilter& filter_;
  model::Swapper& swapper_;
  face::AlignOptions align_;
  std::set<int64_t> keep_original_;
  int64_t faces_left_ = 0;
  std::set<int> tracks_left_;
};

}  // namespace faceswap::pipeline
