#include "faceswap/face/track_identity.h"

#include <spdlog/spdlog.h>

#include <string>

namespace faceswap::face {

TrackIdentities::TrackIdentities(IdentityEncoder& encoder, std::vector<Descriptor> people, Options options)
    : encoder_(encoder), people_(std::move(people)), options_(options) {}

TrackIdentities::TrackIdentities(IdentityEncoder& encoder, std::vector<Descriptor> people)
    : TrackIdentities(encoder, std::move(people), Options{}) {}

int TrackIdentities::Identify(const cv::Mat& frame, int64_t frame_index, const Face& face) {
  if (face.track_id < 0) {
    ++descriptors_;
    return MatchPerson(encoder_.Encode(frame, face.points), people_);
  }
  Track& track = tracks_[face.track_id];
  const bool due = track.samples.empty() ||
                   (static_cast<int>(track.samples.size()) < options_.max_samples &&
                    frame_index - track.last_sample_frame >= options_.sample_every);
  if (due) {
    track.samples.push_back(encoder_.Encode(frame, face.points));
    track.last_sample_frame = frame_index;
    ++descriptors_;
    double distance = 0;
    track.person = MatchPerson(MeanDescriptor(track.samples), people_, &distance, kTrackSameAsMeanDistance);
    track.nobody_in_a_row = track.person < 0 ? track.nobody_in_a_row + 1 : 0;
    spdlog::debug("track {}: {} descriptor{}, nearest known person at {:.3f}: {}", face.track_id, track.samples.size(),
                  track.samples.size() == 1 ? "" : "s", distance,
                  track.person < 0 ? std::string("nobody") : "person " + std::to_string(track.person));
  }
  return track.person;
}

bool TrackIdentities::Settled(int track_id) const {
  const auto it = tracks_.find(track_id);
  if (it == tracks_.end()) return false;
  const Track& track = it->second;
  return static_cast<int>(track.samples.size()) >= options_.max_samples ||
         track.nobody_in_a_row >= options_.settle_nobody_after;
}

void TrackIdentities::Reset() { tracks_.clear(); }

}  // namespace faceswap::face
