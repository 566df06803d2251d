#pragma once
// Convert's bridge over short tracking gaps. When a hand or a microphone passes over a
// face, the tracker can lose it for a few frames and find it again under the same track
// id (face::Tracker keeps lost tracks for a second); those frames would show the original
// face between swapped ones, a flash of the wrong person. The bridge holds the frames that
// follow a swapped face's disappearance until it comes back, then gives each held frame
// that face with its landmarks interpolated between the two ends, so it is swapped too
// (the mask then keeps what covers it). It does not bridge longer gaps (kMaxGapSeconds),
// gaps across a cut (another shot), a face that came back elsewhere (another place or size:
// more likely somebody or something else), or more frames than it may hold. Convert only:
// live cannot wait.

#include <deque>
#include <map>
#include <vector>

#include "faceswap/face/align.h"
#include "item.h"

namespace faceswap::pipeline {

class GapBridge {
 public:
  // Holds at most `max_held` frames (then gives up waiting).
  GapBridge(const face::AlignOptions& align, size_t max_held) : align_(align), max_held_(max_held) {}

  // Takes the face stage's next item and appends to `ready` the items that may go on, in
  // order (none while it waits for a face to come back).
  void Push(Item item, std::vector<Item>& ready);
  // The end of the clip: whatever is held goes on as it is.
  void Flush(std::vector<Item>& ready);

  int64_t bridged_faces() const { return bridged_faces_; }

 private:
  struct Missing {
    face::Face last;        // the face in the last frame that had it
    double seconds = 0;     // that frame's time
  };
  void Fill(const Missing& from, const face::Face& to, double to_seconds);
  // Whether a held frame after `seconds`, or `now`, starts a new shot.
  bool CutSince(double seconds, const Item& now) const;

  face::AlignOptions align_;
  size_t max_held_;
  std::map<int, face::Face> previous_;   // track id -> face, in the last item passed on or held
  double previous_seconds_ = 0;          // that item's time
  std::map<int, Missing> missing_;       // swapped faces gone since, waited for
  std::deque<Item> held_;
  int64_t bridged_faces_ = 0;
};

}  // namespace faceswap::pipeline
