#pragma once
// The CSV histories train appends a line to at every save (loss.csv, quality.csv). A
// process killed while appending may leave its last line half-written; these keep that
// from turning into wrong numbers or a failed chart.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace faceswap::core {

// The comma-separated numbers of one line, or nullopt when any cell is not a whole number
// (empty, cut off, text).
std::optional<std::vector<double>> ParseCsvNumbers(const std::string& line);

// Cuts `file` back to its last complete line (ending in '\n') so that the next append
// starts a line of its own. A missing file is left missing. Throws OutputError when it
// cannot be shortened.
void TrimPartialLine(const std::filesystem::path& file);

}  // namespace faceswap::core
