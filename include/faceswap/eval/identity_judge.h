#pragma once
// The identity judge of `faceswap eval`: dlib's face-recognition network (face/identity.h),
// trained by dlib on other people and never part of the model it judges. It answers, for a
// face, which person's real faces it lies nearest (ID retrieval, as FaceForensics++-style
// evaluations of FaceShifter, SimSwap and FaceDancer use it) and how far it is from each.

#include <cstdint>
#include <vector>

#include "faceswap/face/identity.h"

namespace faceswap::eval {

struct JudgedFace {
  face::Descriptor descriptor{};
  int identity = 0;
  int64_t group = 0;  // faces of one group (a run of neighbouring frames) are near copies
};

struct Retrieval {
  int nearest_identity = -1;          // identity of the nearest real face
  std::vector<double> mean_distance;  // per identity: mean distance to its real faces
};

// Compares `probe` (a face of `identity`, group `group`) with the real faces of
// `identities` identities, leaving out the real faces of the probe's own group of its own
// identity, so that no face is judged against itself or its neighbours.
Retrieval Retrieve(const face::Descriptor& probe, int identity, int64_t group, const std::vector<JudgedFace>& real,
                   int identities);

}  // namespace faceswap::eval
