#pragma once
// Checks shared by convert and live once the model is loaded.

#include "faceswap/model/swapper.h"
#include "faceswap/pipeline/swap_options.h"

namespace faceswap::pipeline {

// The identity --to names (-1: the other one, decided by the first face), after checking
// that the model's alignment is known and that --to is given where it must be.
int ChosenTarget(const SwapOptions& options, const model::Swapper& swapper);

}  // namespace faceswap::pipeline
