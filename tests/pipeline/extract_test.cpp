// pipeline::Extract as a library call: crops + alignments.json, re-runs skip finished
// sources, a truncated clip ends with a warning, not an error.

#include "faceswap/pipeline/extract.h"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "faceswap/core/error.h"
#include "faceswap/face/alignments_file.h"
#include "network_files.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::test {
namespace {

pipeline::ExtractOptions Options(std::vector<fs::path> inputs, const fs::path& out) {
  pipeline::ExtractOptions o;
  o.inputs = std::move(inputs);
  o.output_dir = out;
  o.align.size = 128;
  o.threads = 2;
  o.show_progress = false;
  return o;
}

TEST(Extract, ImagesThenRerunSkipsFinishedSources) {
  FACESWAP_REQUIRE_SAMPLE(two, "images/two_people.jpg");
  FACESWAP_REQUIRE_SAMPLE(lin, "images/lin-manuel-miranda.png");
  const fs::path out = MakeTempDir("extract_images");
  auto stats = pipeline::Extract(Options({two, lin}, out));
  EXPECT_EQ(stats.sources_done, 2);
  EXPECT_EQ(stats.faces_saved, 3);
  const face::AlignmentsFile file = face::LoadAlignments(out / "alignments.json");
  ASSERT_EQ(file.sources.size(), 2u);
  EXPECT_EQ(file.crop_size, 128);
  size_t faces = 0;
  for (const auto& s : file.sources) {
    EXPECT_TRUE(s.complete);
    for (const auto& f : s.faces) {
      ++faces;
      const cv::Mat crop = cv::imread((out / f.file).string());
      ASSERT_FALSE(crop.empty()) << f.file;
      EXPECT_EQ(crop.size(), cv::Size(128, 128));
      // The stored transform maps the stored landmarks' eyes near the template's.
      const cv::Point2f eye = face::ApplyTransform(f.to_crop, face::RightEyeCentre(f.points));
      EXPECT_LT(cv::norm(cv::Point2d(eye) - face::TemplateRightEyeInCrop(file.coverage == 1.5 ? face::AlignOptions{128, 1.5}
                                                                                                : face::AlignOptions{128, file.coverage})),
                0.03 * 128);
    }
  }
  EXPECT_EQ(faces, 3u);

  // Second run: nothing to do.
  stats = pipeline::Extract(Options({two, lin}, out));
  EXPECT_EQ(stats.sources_done, 0);
  EXPECT_EQ(stats.sources_skipped, 2);
  EXPECT_EQ(stats.frames_processed, 0);

  // A changed source (new modification time) is done again; the other is still skipped.
  const fs::path copy = out / "copy.png";
  fs::copy_file(lin, copy);
  stats = pipeline::Extract(Options({two, copy}, out));
  EXPECT_EQ(stats.sources_done, 1);
  EXPECT_EQ(stats.sources_skipped, 1);
  fs::last_write_time(copy, fs::last_write_time(copy) + std::chrono::seconds(5));
  stats = pipeline::Extract(Options({two, copy}, out));
  EXPECT_EQ(stats.sources_done, 1);
  EXPECT_EQ(face::LoadAlignments(out / "alignments.json").sources.size(), 3u);
}

// The shared photos show Obama four times (two_people.jpg, obama-1080p.jpg,
// obama_partial_face.jpg, 32bit.png), Biden once (two_people.jpg) and Lin-Manuel Miranda
// once: three people, and a folder for each that train accepts.
TEST(Extract, ByIdentityWritesAFolderPerPerson) {
  FACESWAP_REQUIRE_SAMPLE(images, "images");
  FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
  const fs::path out = MakeTempDir("extract_people");
  pipeline::ExtractOptions options = Options({images}, out);
  options.by_identity = true;
  const pipeline::ExtractStats stats = pipeline::Extract(options);
  EXPECT_TRUE(stats.described);
  ASSERT_EQ(stats.people.size(), 3u);
  EXPECT_EQ(stats.people[0].faces, 4);
  EXPECT_EQ(stats.people[0].sources.size(), 4u);
  EXPECT_EQ(stats.people[1].faces, 1);
  EXPECT_EQ(stats.people[2].faces, 1);
  // The two men of two_people.jpg are two people.
  const face::AlignmentsFile all = face::LoadAlignments(out / "alignments.json");
  for (const auto& source : all.sources) {
    if (source.path.filename() != "two_people.jpg") continue;
    ASSERT_EQ(source.faces.size(), 2u);
    EXPECT_NE(source.faces[0].person, source.faces[1].person);
    for (const auto& f : source.faces) EXPECT_TRUE(f.descriptor.has_value());
  }
  ASSERT_EQ(stats.person_folders.size(), 3u);
  for (size_t p = 0; p < 3; ++p) {
    const fs::path dir = stats.person_folders[p];
    EXPECT_EQ(dir, out / ("person_" + std::to_string(p + 1)));
    EXPECT_TRUE(face::IsExtractFolder(dir));
    const face::AlignmentsFile own = face::LoadAlignments(dir / "alignments.json");
    int64_t faces = 0;
    for (const auto& source : own.sources) {
      for (const auto& f : source.faces) {
        ++faces;
        EXPECT_EQ(f.person, static_cast<int>(p));
        EXPECT_FALSE(cv::imread((dir / f.file).string()).empty()) << f.file;
      }
    }
    EXPECT_EQ(faces, stats.people[p].faces);
    EXPECT_FALSE(cv::imread((dir / "contact.png").string()).empty());
  }
  EXPECT_EQ(cv::imread((out / "people.png").string()).rows, 3 * 96);

  // A second run replaces the folders it wrote and leaves others alone.
  fs::create_directories(out / "person_9");
  fs::create_directories(out / "person_3" / "stale");
  pipeline::Extract(options);
  EXPECT_FALSE(fs::exists(out / "person_3" / "stale"));
  EXPECT_TRUE(fs::exists(out / "person_9"));
}

TEST(Extract, TruncatedClipFinishesWithAWarning) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a_truncated.mp4");
  const fs::path out = MakeTempDir("extract_truncated");
  auto o = Options({clip}, out);
  o.every = 10;  // the whole clip is decoded; every 10th frame is looked at
  const auto stats = pipeline::Extract(o);
  ASSERT_EQ(stats.sources.size(), 1u);
  EXPECT_FALSE(stats.sources[0].warning.empty());
  EXPECT_GE(stats.frames_read, 620);
  EXPECT_LT(stats.frames_read, 1544);  // not what the index promised
  EXPECT_EQ(stats.frames_processed, (stats.frames_read + 9) / 10);
  EXPECT_GE(stats.frames_with_face, stats.frames_processed * 95 / 100);
  const auto file = face::LoadAlignments(out / "alignments.json");
  ASSERT_EQ(file.sources.size(), 1u);
  EXPECT_TRUE(file.sources[0].complete);
  EXPECT_FALSE(file.sources[0].warning.empty());
  for (const auto& f : file.sources[0].faces) EXPECT_EQ(f.frame % 10, 0);
}

TEST(Extract, BadInputsAndBadAlignmentsFile) {
  const fs::path out = MakeTempDir("extract_bad");
  EXPECT_THROW(pipeline::Extract(Options({"/nonexistent/clip.mp4"}, out)), InputError);
  auto o = Options({out}, out / "x");
  EXPECT_THROW(pipeline::Extract(o), InputError);  // folder without images
  FACESWAP_REQUIRE_SAMPLE(lin, "images/lin-manuel-miranda.png");
  std::ofstream(out / "alignments.json") << "{\"version\": 42}";
  EXPECT_THROW(pipeline::Extract(Options({lin}, out)), InputError);
  o = Options({lin}, out);
  o.every = 0;
  EXPECT_THROW(pipeline::Extract(o), UsageError);
}

}  // namespace
}  // namespace faceswap::test
