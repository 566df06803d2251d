// The exemplar crop cache on real pixels: a round trip, damage read as absent, the key
// following the crop files, and the newest entries kept.

#include "faceswap/pipeline/exemplar_cache.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <thread>

#include "test_support.h"

namespace faceswap::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr int kSide = 64;

// Face-sized crops cut from a shared photo, written as PNG files like extract's.
std::vector<fs::path> WriteCrops(const fs::path& photo, const fs::path& dir, int count, std::vector<cv::Mat>& crops) {
  const cv::Mat picture = cv::imread(photo.string(), cv::IMREAD_COLOR);
  std::vector<fs::path> files;
  for (int i = 0; i < count; ++i) {
    cv::Mat crop;
    cv::resize(picture(cv::Rect(700 + 20 * i, 100 + 10 * i, 320, 320)), crop, {kSide, kSide}, 0, 0, cv::INTER_AREA);
    files.push_back(dir / ("crop_" + std::to_string(i) + ".png"));
    cv::imwrite(files.back().string(), crop);
    crops.push_back(crop);
  }
  return files;
}

bool Same(const std::vector<cv::Mat>& a, const std::vector<cv::Mat>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size() || a[i].type() != b[i].type() || cv::norm(a[i], b[i], cv::NORM_INF) != 0) return false;
  }
  return true;
}

TEST(ExemplarCropCache, RoundTripAndDamageReadAsAbsent) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const fs::path dir = test::MakeTempDir("exemplar_cache_round_trip");
  std::vector<cv::Mat> crops;
  const std::vector<fs::path> files = WriteCrops(photo, dir, 5, crops);
  const ExemplarCropCache cache(dir / "cache", files, kSide);
  EXPECT_FALSE(cache.Read().has_value());  // nothing stored yet
  cache.Write(crops);
  std::optional<std::vector<cv::Mat>> back = cache.Read();
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(Same(*back, crops));

  // One pixel changed on disk: the checksum refuses the entry.
  {
    std::fstream f(cache.file(), std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(fs::file_size(cache.file()) - 100);
    f.seekg(at);
    const char was = static_cast<char>(f.get());
    f.seekp(at);
    f.put(static_cast<char>(was ^ 0x5a));
  }
  EXPECT_FALSE(cache.Read().has_value());
  cache.Write(crops);  // written again whole
  ASSERT_TRUE(cache.Read().has_value());
  // Cut short: refused.
  fs::resize_file(cache.file(), fs::file_size(cache.file()) - 1);
  EXPECT_FALSE(cache.Read().has_value());
  // Another side's entry for the same files is another file.
  EXPECT_NE(ExemplarCropCache(dir / "cache", files, 2 * kSide).file(), cache.file());
}

TEST(ExemplarCropCache, KeyFollowsTheCropFiles) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const fs::path dir = test::MakeTempDir("exemplar_cache_key");
  std::vector<cv::Mat> crops;
  const std::vector<fs::path> files = WriteCrops(photo, dir, 3, crops);
  const fs::path before = ExemplarCropCache(dir, files, kSide).file();
  EXPECT_EQ(ExemplarCropCache(dir, files, kSide).file(), before);
  EXPECT_NE(ExemplarCropCache(dir, {files[0], files[1]}, kSide).file(), before);
  // A crop extracted again (a new modification time) makes a new set.
  fs::last_write_time(files[1], fs::last_write_time(files[1]) + std::chrono::seconds(5));
  EXPECT_NE(ExemplarCropCache(dir, files, kSide).file(), before);
}

// A cache that cannot be written (here its folder would be inside a file) costs only the
// cache: no exception, nothing left behind, the crops read as absent.
TEST(ExemplarCropCache, UnwritableCacheIsOnlyAMiss) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const fs::path dir = test::MakeTempDir("exemplar_cache_unwritable");
  std::vector<cv::Mat> crops;
  const std::vector<fs::path> files = WriteCrops(photo, dir, 2, crops);
  const ExemplarCropCache cache(files[0] / "cache", files, kSide);
  EXPECT_NO_THROW(cache.Write(crops));
  EXPECT_FALSE(cache.Read().has_value());
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, files.size());
}

TEST(ExemplarCropCache, KeepsTheNewestEntries) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const fs::path dir = test::MakeTempDir("exemplar_cache_keep");
  std::vector<cv::Mat> crops;
  const std::vector<fs::path> files = WriteCrops(photo, dir, 2, crops);
  std::vector<fs::path> written;
  for (size_t i = 0; i < kKeptEntries + 2; ++i) {
    // Sets of one crop each, told apart by the crop's modification time.
    fs::last_write_time(files[0], fs::file_time_type::clock::now() - std::chrono::hours(10 + i));
    const ExemplarCropCache cache(dir / "cache", {files[0]}, kSide);
    cache.Write({crops[0]});
    fs::last_write_time(cache.file(), fs::file_time_type::clock::now() - std::chrono::minutes(100 - i));
    written.push_back(cache.file());
  }
  // The last write trims to the newest kKeptEntries, which it counts itself among.
  size_t kept = 0;
  for (const auto& entry : fs::directory_iterator(dir / "cache")) kept += entry.path().extension() == ".crops";
  EXPECT_EQ(kept, kKeptEntries);
  EXPECT_FALSE(fs::exists(written[0]));
  EXPECT_TRUE(fs::exists(written.back()));
}

}  // namespace
}  // namespace faceswap::pipeline
