#pragma once
// The real face crops each identity of a model trained on, loaded for model::Swapper's
// exemplar detail (`--detail exemplars` in convert, live and eval; model/exemplar_detail.h).

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

// Lists each identity's training crops (the folders model.json records; faces train held out
// and faces near `avoid` are left out) and hands `swapper` their loader (read when that
// identity is first drawn). An identity whose folders are gone draws the plain
// enlargement, with a warning. Returns the crops listed in all.
int64_t UseExemplarDetail(model::Swapper& swapper, const AvoidedFrames& avoid = {});

}  // namespace faceswap::pipeline
