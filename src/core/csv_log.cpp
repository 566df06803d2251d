#include "faceswap/core/csv_log.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <system_error>

#include "faceswap/core/error.h"

namespace fs = std::filesystem;

namespace faceswap::core {

std::optional<std::vector<double>> ParseCsvNumbers(const std::string& line) {
  std::vector<double> numbers;
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(line.find(',', begin), line.size());
    const std::string cell = line.substr(begin, end - begin);
    char* parsed_to = nullptr;
    errno = 0;
    const double value = std::strtod(cell.c_str(), &parsed_to);
    if (cell.empty() || parsed_to != cell.c_str() + cell.size() || errno == ERANGE) return std::nullopt;
    numbers.push_back(value);
    if (end == line.size()) return numbers;
    begin = end + 1;
  }
}

void TrimPartialLine(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || size == 0) return;
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.back() == '\n') return;
  const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  fs::resize_file(file, keep, ec);
  if (ec) throw OutputError(file, "cannot cut off its half-written last line (" + ec.message() + ")");
}

}  // namespace faceswap::core
