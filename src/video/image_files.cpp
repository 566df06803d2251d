#include "image_files.h"

#include <algorithm>
#include <cctype>

namespace faceswap::video::detail {

bool IsImageFile(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" ||
         ext == ".tiff" || ext == ".webp";
}

bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      // Compare digit runs by value without overflow: skip leading zeros, then the longer
      // run is larger, then the first differing digit decides.
      size_t a_end = i, b_end = j;
      while (a_end < a.size() && is_digit(a[a_end])) ++a_end;
      while (b_end < b.size() && is_digit(b[b_end])) ++b_end;
      size_t a_nz = i, b_nz = j;
      while (a_nz + 1 < a_end && a[a_nz] == '0') ++a_nz;
      while (b_nz + 1 < b_end && b[b_nz] == '0') ++b_nz;
      const size_t a_len = a_end - a_nz, b_len = b_end - b_nz;
      if (a_len != b_len) return a_len < b_len;
      const int cmp = a.compare(a_nz, a_len, b, b_nz, b_len);
      if (cmp != 0) return cmp < 0;
      // Equal values: fewer leading zeros first, so the order stays strict and stable.
      if (a_end - i != b_end - j) return a_end - i < b_end - j;
      i = a_end;
      j = b_end;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::vector<std::filesystem::path> ListImagesNaturally(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> images;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && IsImageFile(entry.path())) images.push_back(entry.path());
  }
  std::sort(images.begin(), images.end(), [](const auto& x, const auto& y) {
    return NaturalLess(x.filename().string(), y.filename().string());
  });
  return images;
}

}  // namespace faceswap::video::detail
