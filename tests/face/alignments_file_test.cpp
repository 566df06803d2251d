#include "faceswap/face/alignments_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "faceswap/core/error.h"
#include "test_support.h"

namespace faceswap::test {
namespace {

face::AlignmentsFile Sample() {
  face::AlignmentsFile file;
  file.crop_size = 128;
  file.coverage = 1.25;
  face::SourceRecord source;
  source.path = "/data/clip.mp4";
  source.file_size = 1234567;
  source.mtime_ns = 1700000000123456789;
  source.every = 2;
  source.complete = true;
  source.frames_read = 42;
  source.warning = "stream ended early";
  for (int k = 0; k < 2; ++k) {
    face::FaceRecord f;
    f.frame = 10 + k;
    f.seconds = 0.3333 + k;
    f.track_id = k;
    f.score = 0.75f;
    f.box = {10.5f, 20.25f, 100.f, 110.f};
    for (int i = 0; i < 68; ++i) f.points[i] = {static_cast<float>(i) + 0.125f, static_cast<float>(2 * i) + 0.5f};
    f.to_crop = cv::Matx23d(1.5, -0.25, 3.125, 0.25, 1.5, -7.5);
    f.file = "clip_000010_0.png";
    if (k == 0) {
      face::Descriptor d{};
      for (int i = 0; i < face::kDescriptorSize; ++i) d[i] = 0.01f * static_cast<float>(i) - 0.6f;
      f.descriptor = d;
    }
    f.person = k == 0 ? 1 : -1;
    source.faces.push_back(f);
  }
  file.sources.push_back(source);
  return file;
}

TEST(AlignmentsFile, RoundTrip) {
  const auto dir = MakeTempDir("alignments_round_trip");
  const face::AlignmentsFile original = Sample();
  face::SaveAlignments(original, dir / "alignments.json");
  const face::AlignmentsFile loaded = face::LoadAlignments(dir / "alignments.json");
  EXPECT_EQ(loaded.version, face::kAlignmentsVersion);
  EXPECT_EQ(loaded.crop_size, 128);
  EXPECT_DOUBLE_EQ(loaded.coverage, 1.25);
  ASSERT_EQ(loaded.sources.size(), 1u);
  const auto& s = loaded.sources[0];
  const auto& o = original.sources[0];
  EXPECT_EQ(s.path, o.path);
  EXPECT_EQ(s.file_size, o.file_size);
  EXPECT_EQ(s.mtime_ns, o.mtime_ns);
  EXPECT_EQ(s.every, 2);
  EXPECT_TRUE(s.complete);
  EXPECT_EQ(s.frames_read, 42);
  EXPECT_EQ(s.warning, o.warning);
  ASSERT_EQ(s.faces.size(), 2u);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_EQ(s.faces[k].frame, o.faces[k].frame);
    EXPECT_DOUBLE_EQ(s.faces[k].seconds, o.faces[k].seconds);
    EXPECT_EQ(s.faces[k].track_id, o.faces[k].track_id);
    EXPECT_EQ(s.faces[k].box, o.faces[k].box);
    EXPECT_EQ(s.faces[k].points, o.faces[k].points);
    EXPECT_EQ(s.faces[k].file, o.faces[k].file);
    for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(s.faces[k].to_crop.val[i], o.faces[k].to_crop.val[i]);
    EXPECT_EQ(s.faces[k].person, o.faces[k].person);
    ASSERT_EQ(s.faces[k].descriptor.has_value(), o.faces[k].descriptor.has_value());
    if (o.faces[k].descriptor) {
      EXPECT_LT(face::Distance(*s.faces[k].descriptor, *o.faces[k].descriptor), 1e-4);
    }
  }
  EXPECT_NE(loaded.Find("/data/clip.mp4"), nullptr);
  EXPECT_EQ(loaded.Find("/data/other.mp4"), nullptr);
  // No temporary left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
}

void Write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

void ExpectInputError(const std::filesystem::path& path, const std::string& needle) {
  try {
    face::LoadAlignments(path);
    FAIL() << "expected InputError for " << path;
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(AlignmentsFile, BadFilesGiveClearErrors) {
  const auto dir = MakeTempDir("alignments_bad");
  ExpectInputError(dir / "missing.json", "cannot read");
  Write(dir / "garbage.json", "this is { not json");
  ExpectInputError(dir / "garbage.json", "not a valid JSON");
  Write(dir / "noversion.json", R"({"sources": []})");
  ExpectInputError(dir / "noversion.json", "version");
  Write(dir / "future.json", R"({"version": 99, "crop": {"size": 256, "coverage": 1.5}, "sources": []})");
  ExpectInputError(dir / "future.json", "version 99 is not supported");
  Write(dir / "short.json", R"({"version": 1, "crop": {"size": 256, "coverage": 1.5}, "sources": [
      {"path": "/a.mp4", "file_size": 1, "mtime_ns": 2, "complete": true, "faces": [
        {"frame": 0, "seconds": 0, "track": 0, "box": [0,0,1,1], "landmarks": [[1,2]], "to_crop": [1,0,0,0,1,0], "file": "a.png"}]}]})");
  ExpectInputError(dir / "short.json", "68 points");
}

}  // namespace
}  // namespace faceswap::test
