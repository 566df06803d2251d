#pragma once
// face::TrackIdentities: whose face each track of a clip shows, decided from a few of its
// faces rather than every frame. The first face of a track is described at once, then one
// every `sample_every` frames up to `max_samples`; the track's mean descriptor is matched
// against the known people (face::MatchPerson), so one odd frame (a blink, motion blur)
// cannot flip the decision once a few samples agree.
//
//   face::TrackIdentities who(encoder, {mean_a, mean_b});
//   for (const face::Face& f : tracker.Update(frame.bgr)) if (who.Identify(frame.bgr, frame.index, f) == 0) ...

#include <opencv2/core.hpp>

#include <cstdint>
#include <map>
#include <vector>

#include "faceswap/face/face.h"
#include "faceswap/face/identity.h"

namespace faceswap::face {

class TrackIdentities {
 public:
  struct Options {
    int sample_every = 15;  // frames between the descriptors of one track
    int max_samples = 5;    // descriptors per track; then its decision is final
    int settle_nobody_after = 3;  // samples after which "nobody known" is final
  };

  // `encoder` must outlive this object.
  TrackIdentities(IdentityEncoder& encoder, std::vector<Descriptor> people, Options options);
  TrackIdentities(IdentityEncoder& encoder, std::vector<Descriptor> people);

  // The person (index into `people`) this face's track matches, or -1 for nobody.
  // `frame_index` counts the clip's frames (for the sampling interval). Untracked faces
  // (track_id < 0) are described every time.
  int Identify(const cv::Mat& frame, int64_t frame_index, const Face& face);

  // Whether this track's decision is final: all its samples taken, or (for nobody known)
  // `settle_nobody_after` samples that agree that it is nobody.
  bool Settled(int track_id) const;

  // Forget every track (a new clip).
  void Reset();

  int64_t descriptors() const { return descriptors_; }  // network runs so far

 private:
  struct Track {
    std::vector<Descriptor> samples;
    int64_t last_sample_frame = 0;
    int person = -1;
    int nobody_in_a_row = 0;  // samples in a row whose mean matched nobody
  };
  IdentityEncoder& encoder_;
  std::vector<Descriptor> people_;
  Options options_;
  std::map<int, Track> tracks_;
  int64_t descriptors_ = 0;
};

}  // namespace faceswap::face
