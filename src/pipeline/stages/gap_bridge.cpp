#include "gap_bridge.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

namespace faceswap::pipeline {
namespace {

// Longest gap bridged. On the occlusion test's clip a hand-sized patch crossing the face in
// 2 s loses it for 5 frames (0.17 s); a face gone for longer has more likely turned away or
// left, and its landmarks would be guessed over too much motion.
constexpr double kMaxGapSeconds = 0.5;
// A face that comes back with its box's centre moved by more than this share of the box's
// width, or its width changed by more than this factor, is not bridged to.
constexpr double kMaxCentreMove = 0.5;
constexpr double kMaxSizeChange = 1.5;

bool Close(const face::Face& a, const face::Face& b) {
  const cv::Point2f ca(a.box.x + a.box.width / 2, a.box.y + a.box.height / 2);
  const cv::Point2f cb(b.box.x + b.box.width / 2, b.box.y + b.box.height / 2);
  const float width = std::max(a.box.width, b.box.width);
  const float ratio = std::max(a.box.width, b.box.width) / std::max(1e-3f, std::min(a.box.width, b.box.width));
  return width > 0 && cv::norm(ca - cb) <= kMaxCentreMove * width && ratio <= kMaxSizeChange;
}

face::Face Between(const face::Face& a, const face::Face& b, float w) {
  face::Face f = a;
  for (size_t i = 0; i < f.points.size(); ++i) f.points[i] = a.points[i] + w * (b.points[i] - a.points[i]);
  f.box = cv::Rect2f(a.box.x + w * (b.box.x - a.box.x), a.box.y + w * (b.box.y - a.box.y),
                     a.box.width + w * (b.box.width - a.box.width), a.box.height + w * (b.box.height - a.box.height));
  f.score = std::min(a.score, b.score);
  return f;
}

}  // namespace

void GapBridge::Fill(const Missing& from, const face::Face& to, double to_seconds) {
  const double span = to_seconds - from.seconds;
  for (size_t i = 0; i < held_.size(); ++i) {
    Item& item = held_[i];
    const double t = item.frame.seconds;
    const bool has = std::any_of(item.faces.begin(), item.faces.end(),
                                 [&](const SwapJob& job) { return job.face.track_id == to.track_id; });
    if (has || !(t > from.seconds && t < to_seconds)) continue;
    // By time where the frames carry it, else by position among the held frames.
    const float w = span > 0 ? static_cast<float>((t - from.seconds) / span)
                             : static_cast<float>(i + 1) / static_cast<float>(held_.size() + 1);
    spdlog::debug("frame {}: track {} drawn from its landmarks on both sides of a gap", item.frame.index,
                  to.track_id);
    SwapJob job;
    job.face = Between(from.last, to, w);
    job.aligned = face::Align(item.frame.bgr, job.face.points, align_);
    item.faces.push_back(std::move(job));
    ++bridged_faces_;
  }
}

bool GapBridge::CutSince(double seconds, const Item& now) const {
  if (now.cut) return true;
  return std::any_of(held_.begin(), held_.end(),
                     [&](const Item& item) { return item.cut && item.frame.seconds > seconds; });
}

void GapBridge::Push(Item item, std::vector<Item>& ready) {
  const double now = item.frame.seconds;
  std::map<int, face::Face> here;
  for (const SwapJob& job : item.faces) {
    if (job.face.track_id >= 0) here[job.face.track_id] = job.face;
  }
  for (auto it = missing_.begin(); it != missing_.end();) {
    const auto back = here.find(it->first);
    if (back != here.end()) {
      if (Close(it->second.last, back->second) && !CutSince(it->second.seconds, item)) {
        Fill(it->second, back->second, now);
      }
      it = missing_.erase(it);
    } else if (now - it->second.seconds > kMaxGapSeconds) {
      it = missing_.erase(it);  // gone for too long: those frames stay as they are
    } else {
      ++it;
    }
  }
  for (const auto& [id, face] : previous_) {
    if (!here.count(id) && !missing_.count(id)) missing_[id] = {face, previous_seconds_};
  }
  previous_ = std::move(here);
  previous_seconds_ = now;
  if (!missing_.empty() && held_.size() < max_held_) {
    held_.push_back(std::move(item));
    return;
  }
  missing_.clear();  // nothing to wait for, or no room to wait longer
  for (Item& held : held_) {
    if (held.target < 0) held.target = item.target;  // the direction was decided meanwhile
    ready.push_back(std::move(held));
  }
  held_.clear();
  ready.push_back(std::move(item));
}

void GapBridge::Flush(std::vector<Item>& ready) {
  for (Item& held : held_) ready.push_back(std::move(held));
  held_.clear();
  missing_.clear();
}

}  // namespace faceswap::pipeline
