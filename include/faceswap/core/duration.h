#pragma once
#include <string>

namespace faceswap::core {

// "90" or "90s", "10m", "1h30m", "2h" -> seconds. UsageError naming the text otherwise.
double ParseDuration(const std::string& text);

}  // namespace faceswap::core
