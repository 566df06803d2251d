#include "faceswap/pipeline/exemplar_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>

#include "faceswap/core/file_util.h"
#include "faceswap/core/fnv.h"
#include "faceswap/core/huge_pages.h"

namespace fs = std::filesystem;

namespace faceswap::pipeline {
namespace {

constexpr char kMagic[8] = {'F', 'S', 'E', 'X', 'C', 'R', 'O', 'P'};
constexpr uint32_t kVersion = 1;
constexpr const char* kExtension = ".crops";

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t side;
  uint64_t key;
  uint64_t count;
  uint64_t checksum;  // of the pixels (Checksum below)
};

using core::Fnv1aMix;
using core::kFnvOffsetBasis;
using core::kFnvPrime;

// A damaged file must not pass for the crops: FNV-1a over 64-bit words (a byte at a time
// would take ~80 ms for 400 crops; this ~15 ms).
uint64_t Checksum(const std::vector<cv::Mat>& crops) {
  uint64_t hash = kFnvOffsetBasis;
  for (const cv::Mat& crop : crops) {
    const size_t bytes = crop.total() * crop.elemSize();
    const unsigned char* data = crop.data;
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
      uint64_t word;
      std::memcpy(&word, data + i, 8);
      hash = (hash ^ word) * kFnvPrime;
    }
    Fnv1aMix(hash, data + i, bytes - i);
  }
  return hash;
}

}  // namespace

fs::path ExemplarCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "faceswap" / "exemplars";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "faceswap" / "exemplars";
  return {};
}

ExemplarCropCache::ExemplarCropCache(fs::path dir, const std::vector<fs::path>& files, int side)
    : dir_(std::move(dir)), side_(side) {
  uint64_t key = kFnvOffsetBasis;
  Fnv1aMix(key, &kVersion, sizeof kVersion);
  Fnv1aMix(key, &side, sizeof side);
  for (const fs::path& file : files) {
    const std::string name = fs::absolute(file).string();
    std::error_code ec;
    const uint64_t size = fs::file_size(file, ec);
    const int64_t modified = fs::last_write_time(file, ec).time_since_epoch().count();
    Fnv1aMix(key, name.data(), name.size() + 1);
    Fnv1aMix(key, &size, sizeof size);
    Fnv1aMix(key, &modified, sizeof modified);
  }
  key_ = key;
  char name[32];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(key));
  if (!dir_.empty()) file_ = dir_ / (std::string(name) + kExtension);
}

std::optional<std::vector<cv::Mat>> ExemplarCropCache::Read() const {
  if (file_.empty()) return std::nullopt;
  std::ifstream in(file_, std::ios::binary);
  if (!in) return std::nullopt;
  Header header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header) || std::memcmp(header.magic, kMagic, sizeof kMagic) != 0 ||
      header.version != kVersion || header.side != static_cast<uint32_t>(side_) || header.key != key_) {
    return std::nullopt;
  }
  const uint64_t crop_bytes = 3ULL * side_ * side_;
  std::error_code ec;
  const uint64_t size = fs::file_size(file_, ec);
  if (ec || header.count > 100000 || size != sizeof header + header.count * crop_bytes) return std::nullopt;
  // One block for all of them, read at once (the crops are views of it), on huge pages.
  cv::Mat block(static_cast<int>(header.count) * side_, side_, CV_8UC3);
  core::AdviseHugePages(block.data, block.total() * block.elemSize());
  if (!in.read(reinterpret_cast<char*>(block.data), static_cast<std::streamsize>(header.count * crop_bytes))) {
    return std::nullopt;
  }
  std::vector<cv::Mat> crops(header.count);
  for (size_t i = 0; i < crops.size(); ++i) crops[i] = block.rowRange(static_cast<int>(i) * side_, static_cast<int>(i + 1) * side_);
  if (Checksum(crops) != header.checksum) {
    spdlog::debug("{}: exemplar cache entry damaged (checksum); reading the crops", file_.string());
    return std::nullopt;
  }
  fs::last_write_time(file_, fs::file_time_type::clock::now(), ec);  // recently used: kept longer
  return crops;
}

void ExemplarCropCache::Write(const std::vector<cv::Mat>& crops) const {
  if (file_.empty()) return;
  for (const cv::Mat& crop : crops) {
    if (crop.type() != CV_8UC3 || crop.cols != side_ || crop.rows != side_ || !crop.isContinuous()) return;
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const fs::path temporary = core::TemporaryPathFor(file_);
  {
    Header header{};
    std::memcpy(header.magic, kMagic, sizeof kMagic);
    header.version = kVersion;
    header.side = static_cast<uint32_t>(side_);
    header.key = key_;
    header.count = crops.size();
    header.checksum = Checksum(crops);
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&header), sizeof header);
    for (const cv::Mat& crop : crops) {
      out.write(reinterpret_cast<const char*>(crop.data), static_cast<std::streamsize>(crop.total() * crop.elemSize()));
    }
    if (!out.flush()) {
      out.close();
      fs::remove(temporary, ec);
      spdlog::debug("{}: exemplar cache not written (a full disk or no permission)", file_.string());
      return;
    }
  }
  fs::rename(temporary, file_, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return;
  }
  // The newest entries stay; older ones (and temporaries a killed run left) go.
  std::vector<std::pair<fs::file_time_type, fs::path>> entries;
  std::error_code listing;
  for (fs::directory_iterator it(dir_, listing), end; !listing && it != end; it.increment(listing)) {
    const fs::path& path = it->path();
    if (path.extension() != kExtension) continue;
    std::error_code stat;
    const fs::file_time_type modified = fs::last_write_time(path, stat);
    if (stat) continue;
    if (core::IsTemporaryName(path.filename())) {
      // Another run's temporary may still be being written: only old ones go.
      if (fs::file_time_type::clock::now() - modified > std::chrono::hours(1)) fs::remove(path, stat);
      continue;
    }
    entries.emplace_back(modified, path);
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = kKeptEntries; i < entries.size(); ++i) fs::remove(entries[i].second, ec);
}

}  // namespace faceswap::pipeline
