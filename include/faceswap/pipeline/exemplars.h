#pragma once
// The real face crops each identity of a model trained on, loaded for model::Swapper's
// exemplar detail (`--detail`, by default, in convert, live and eval; model/exemplar_detail.h).

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "faceswap/model/swapper.h"

namespace faceswap::pipeline {

// Frames to keep away from, per source clip (absolute path): eval redraws held-out faces,
// whose neighbouring frames are near copies of them and must not lend them their detail.
using AvoidedFrames = std::map<std::filesystem::path, std::set<int64_t>>;

// Crops within this many frames of an avoided frame are not used (half a second at 30 fps).
inline constexpr int64_t kExemplarFrameMargin = 15;
// Crops per identity (evenly spread over its training faces): bounds memory (a 256 px crop's
// detail takes 0.2 MB) and the time to search them.
inline constexpr size_t kMaxExemplarCrops = 400;

// --detail: how the face drawn at the network's side becomes the frame's face.
//   kExemplars: drawn at the crops' full side with detail from the target's own training crops
//   kNone: the drawn face enlarged as it is
//   kAuto (the default): kExemplars where the model draws its faces at the side it sees them
//   (lite, original, hd) and its training faces are still where model.json says; otherwise
//   kNone (a preset with a detail stage draws its own; when the faces are gone, with a warning).
enum class DetailMode { kAuto, kExemplars, kNone };
DetailMode ParseDetailMode(const std::string& name);  // auto | exemplars | none; UsageError otherwise

// Applies `mode`: lists each identity's training crops (the folders model.json records;
// faces train held out and faces near `avoid` are left out) and hands `swapper` their
// loader (read when that identity is first drawn). With kExemplars, an identity whose
// folders are gone draws the plain enlargement, with a warning, and a model with a detail
// stage is a UsageError. Returns whether the faces get exemplar detail.
bool UseDetail(model::Swapper& swapper, DetailMode mode, const AvoidedFrames& avoid = {});

}  // namespace faceswap::pipeline
