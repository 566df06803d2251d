#include "faceswap/core/duration.h"

#include <cctype>
#include <cmath>

#include "faceswap/core/error.h"

namespace faceswap::core {

double ParseDuration(const std::string& text) {
  const auto bad = [&] {
    return UsageError("'" + text + "' is not a duration (examples: 90s, 10m, 1h30m)");
  };
  if (text.empty()) throw bad();
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) throw bad();
    double value = 0;
    size_t parsed = 0;
    try {
      value = std::stod(text.substr(start, i - start), &parsed);
    } catch (const std::exception&) {
      throw bad();
    }
    if (parsed != i - start) throw bad();  // "1.2.3m" is not 1.2 minutes
    double unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 'h': unit = 3600; break;
        case 'm': unit = 60; break;
        case 's': unit = 1; break;
        default: throw bad();
      }
      ++i;
    } else if (start != 0) {
      throw bad();  // "1h30" is ambiguous
    }
    total += value * unit;
  }
  // Found by fuzzing: 300-odd digits of hours made an infinite --time, a run without end.
  if (!std::isfinite(total)) throw bad();
  return total;
}

}  // namespace faceswap::core
