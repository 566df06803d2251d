#include <cmath>

#include "checks.h"
#include "faceswap/core/duration.h"
#include "faceswap/core/error.h"

namespace faceswap::fuzz {

std::string CheckDuration(const std::string& input) {
  try {
    const double seconds = core::ParseDuration(input);
    if (!std::isfinite(seconds) || seconds < 0) return "accepted a duration of " + std::to_string(seconds) + " s";
  } catch (const UsageError&) {
  }
  return "";
}

}  // namespace faceswap::fuzz
