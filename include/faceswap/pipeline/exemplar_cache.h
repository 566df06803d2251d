#pragma once
// A cache of the exemplar crops convert, live and eval read at start (exemplars.h): the same
// few hundred PNG crops of the target are decoded at every run (~1.6 s of CPU for 400, most
// of it while the stages behind the network wait); from the cache they are one read of their
// pixels. One file per set of crops, named by the crops' paths, sizes and modification times
// (a crop re-extracted is a new set), under $XDG_CACHE_HOME/faceswap/exemplars or
// ~/.cache/faceswap/exemplars; the newest kKeptEntries are kept (~80 MB each for 400 crops
// of 256 px). A damaged or foreign file is read as absent and written again.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

namespace faceswap::pipeline {

inline constexpr size_t kKeptEntries = 6;

// Where the entries live; empty when neither $XDG_CACHE_HOME nor $HOME is set (no cache).
std::filesystem::path ExemplarCacheDir();

class ExemplarCropCache {
 public:
  // The entry for `files` read at `side` px, in `dir`.
  ExemplarCropCache(std::filesystem::path dir, const std::vector<std::filesystem::path>& files, int side);

  // The crops as they were stored, when the entry is there and whole; otherwise nothing.
  std::optional<std::vector<cv::Mat>> Read() const;
  // Stores `crops` (side x side BGR) through a temporary file, then removes all but the newest
  // kKeptEntries entries. A failure (a full disk, no write permission) costs only the cache:
  // it is logged at debug level, never thrown.
  void Write(const std::vector<cv::Mat>& crops) const;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path dir_, file_;
  uint64_t key_ = 0;
  int side_ = 0;
};

}  // namespace faceswap::pipeline
