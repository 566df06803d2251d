#pragma once
// Whose faces are swapped, and as whom they are drawn: only the faces of the model's
// source identity (each track's face-recognition descriptor matched against the means
// train recorded), only the person of a reference photo, or everyone.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "faceswap/face/identity.h"
#include "faceswap/face/track_identity.h"
#include "faceswap/model/swapper.h"
#include "faceswap/pipeline/swap_options.h"

namespace faceswap::pipeline {

class FaceFilter {
 public:
  // target: the identity to draw (-1: not chosen, decided by the first face that tells).
  FaceFilter(const SwapOptions& options, model::Swapper& swapper, int target);

  // Whether to swap this face; decides the direction on the first face that tells it.
  bool Swap(const cv::Mat& frame, int64_t frame_index, const face::Face& face, model::Swapper& swapper);

  // Whether the decision for this face's track will not change any more (then a face left
  // alone can be parked by the tracker).
  bool Settled(const face::Face& face) const;

  int target() const { return target_; }  // -1: not known yet
  const std::string& description() const { return description_; }

 private:
  int target_;
  std::string description_;
  std::optional<face::IdentityEncoder> encoder_;
  std::optional<face::Descriptor> reference_;
  std::optional<face::TrackIdentities> who_;
};

// Which identity these crops show: the decoder that redraws them best (models without
// identity descriptors).
int GuessSourceIdentity(model::Swapper& swapper, const std::vector<cv::Mat>& crops);

}  // namespace faceswap::pipeline
