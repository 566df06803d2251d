#pragma once
// Internal: which files count as images, and the natural order of a folder of them.

#include <filesystem>
#include <string>
#include <vector>

namespace faceswap::video::detail {

// By extension, case-insensitive: png, jpg, jpeg, bmp, tif, tiff, webp.
bool IsImageFile(const std::filesystem::path& path);

// "frame2.png" < "frame10.png": digit runs compare by value, the rest byte by byte.
bool NaturalLess(const std::string& a, const std::string& b);

// The image files directly inside `dir`, in natural order of their file names.
std::vector<std::filesystem::path> ListImagesNaturally(const std::filesystem::path& dir);

}  // namespace faceswap::video::detail
