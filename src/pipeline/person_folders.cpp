#include "faceswap/pipeline/person_folders.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"

namespace fs = std::filesystem;

namespace faceswap::pipeline {
namespace {

constexpr const char* kMarker = ".faceswap-person";
constexpr int kContactFaces = 48;  // 8 x 6
constexpr int kContactColumns = 8;
constexpr int kThumb = 96;
constexpr int kOverviewFaces = 8;

void WritePng(const fs::path& path, const cv::Mat& image) {
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", image, bytes)) throw OutputError(path, "cannot encode image");
  core::WriteFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

// `count` faces spread evenly over `faces` (which are in file order: sources, frames).
std::vector<const face::FaceRecord*> Spread(const std::vector<const face::FaceRecord*>& faces, size_t count) {
  if (faces.size() <= count) return faces;
  std::vector<const face::FaceRecord*> picked;
  for (size_t i = 0; i < count; ++i) picked.push_back(faces[i * faces.size() / count]);
  return picked;
}

cv::Mat Thumbnail(const fs::path& dir, const face::FaceRecord& f) {
  cv::Mat crop = cv::imread((dir / f.file).string(), cv::IMREAD_COLOR);
  cv::Mat thumb(kThumb, kThumb, CV_8UC3, cv::Scalar(40, 40, 40));
  if (!crop.empty()) cv::resize(crop, thumb, thumb.size(), 0, 0, cv::INTER_AREA);
  return thumb;
}

cv::Mat Grid(const fs::path& dir, const std::vector<const face::FaceRecord*>& faces, int columns) {
  const int rows = std::max(1, (static_cast<int>(faces.size()) + columns - 1) / columns);
  cv::Mat sheet(rows * kThumb, columns * kThumb, CV_8UC3, cv::Scalar(24, 24, 24));
  for (size_t i = 0; i < faces.size(); ++i) {
    const int r = static_cast<int>(i) / columns, c = static_cast<int>(i) % columns;
    Thumbnail(dir, *faces[i]).copyTo(sheet(cv::Rect(c * kThumb, r * kThumb, kThumb, kThumb)));
  }
  return sheet;
}

void Label(cv::Mat& image, const std::string& text, cv::Point at) {
  cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
  cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
}

void LinkOrCopy(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_hard_link(from, to, ec);
  if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw OutputError(to, "cannot link or copy face image (" + ec.message() + ")");
}

}  // namespace

std::vector<fs::path> WritePersonFolders(const fs::path& extract_dir, const face::AlignmentsFile& file,
                                         const std::vector<face::PersonSummary>& people) {
  // Folders of an earlier run go first, so a person who is gone leaves no folder behind.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(extract_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("person_", 0) == 0 && fs::exists(entry.path() / kMarker)) {
      core::RemoveTree(entry.path(), ec);
      if (ec) throw OutputError(entry.path(), "cannot replace the person folder (" + ec.message() + ")");
    }
  }

  std::vector<fs::path> folders;
  std::vector<cv::Mat> overview_rows;
  for (const face::PersonSummary& person : people) {
    const fs::path dir = extract_dir / ("person_" + std::to_string(person.person + 1));
    if (fs::exists(dir)) throw OutputError(dir, "exists and was not written by faceswap; move it away first");
    core::EnsureDirectory(dir);
    std::ofstream(dir / kMarker) << "written by faceswap extract --by-identity; replaced by the next run\n";

    face::AlignmentsFile own = file;
    std::vector<const face::FaceRecord*> faces;
    for (face::SourceRecord& source : own.sources) {
      std::vector<face::FaceRecord> kept;
      for (const face::FaceRecord& f : source.faces) {
        if (f.person == person.person) kept.push_back(f);
      }
      source.faces = std::move(kept);
    }
    own.sources.erase(std::remove_if(own.sources.begin(), own.sources.end(),
                                     [](const face::SourceRecord& s) { return s.faces.empty(); }),
                      own.sources.end());
    for (const face::SourceRecord& source : own.sources) {
      for (const face::FaceRecord& f : source.faces) {
        LinkOrCopy(extract_dir / f.file, dir / f.file);
        faces.push_back(&f);
      }
    }
    face::SaveAlignments(own, dir / face::kAlignmentsFileName);
    WritePng(dir / "contact.png", Grid(extract_dir, Spread(faces, kContactFaces), kContactColumns));

    cv::Mat row = Grid(extract_dir, Spread(faces, kOverviewFaces), kOverviewFaces);
    Label(row, "person " + std::to_string(person.person + 1) + ": " + std::to_string(person.faces) +
                   (person.faces == 1 ? " face" : " faces"), {6, 20});
    overview_rows.push_back(row);
    folders.push_back(dir);
  }
  if (!overview_rows.empty()) {
    cv::Mat overview;
    cv::vconcat(overview_rows, overview);
    WritePng(extract_dir / "people.png", overview);
  }
  return folders;
}

}  // namespace faceswap::pipeline
