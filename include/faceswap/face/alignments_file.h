#pragma once
// The alignments file (alignments.json) that `extract` writes beside the face crops and
// that train/convert read. JSON, versioned; the format is documented in README.md
// ("Extracting faces"). Version 1:
//
// { "version": 1,
//   "crop": {"size": 256, "coverage": 1.5, "template": "dlib-mean-face-17-67"},
//   "sources": [ { "path": "/abs/clip.mp4", "file_size": 123, "mtime_ns": 456,
//                  "every": 1, "complete": true, "frames_read": 624, "warning": "",
//                  "faces": [ { "frame": 0, "seconds": 0.0, "track": 0, "score": 0.93,
//                               "box": [x, y, w, h], "landmarks": [[x, y] x 68],
//                               "to_crop": [a, b, c, d, e, f], "file": "clip_....png",
//                               "descriptor": [128 numbers], "person": 0 } ] } ] }
//
// "descriptor" (face-recognition descriptor, identity.h) is on the first face of each
// track and then on one face in kDescriptorEvery of it; "person" (0 = the person with the
// most faces in the file) on every face, from clustering the tracks' descriptors. Both are
// optional: files written before them, or without the network, lack them.

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/face/face.h"
#include "faceswap/face/identity.h"

namespace faceswap::face {

constexpr int kAlignmentsVersion = 1;
inline constexpr const char* kAlignmentsFileName = "alignments.json";

struct FaceRecord {
  int64_t frame = 0;       // frame index in the source
  double seconds = 0.0;    // its timestamp
  int track_id = -1;
  float score = 0.f;
  cv::Rect2f box;          // frame pixels
  Landmarks points{};      // frame pixels
  cv::Matx23d to_crop = cv::Matx23d::zeros();  // frame -> crop pixels
  std::string file;        // crop file name, relative to the alignments file's folder
  std::optional<Descriptor> descriptor;  // on sampled faces only
  int person = -1;         // -1: not grouped
};

// extract describes the first face of a track and then one in this many of its faces.
inline constexpr int kDescriptorEvery = 10;

struct SourceRecord {
  std::filesystem::path path;  // absolute
  uint64_t file_size = 0;      // to tell a changed input from a finished one
  int64_t mtime_ns = 0;
  int every = 1;               // only frames with index % every == 0 were processed
  bool complete = false;       // every frame was read (or the stream ended early: warning)
  int64_t frames_read = 0;
  std::string warning;         // e.g. a truncated clip's break message
  std::vector<FaceRecord> faces;
};

struct AlignmentsFile {
  int version = kAlignmentsVersion;
  int crop_size = 256;
  double coverage = 1.5;
  std::string template_name = "dlib-mean-face-17-67";
  std::vector<SourceRecord> sources;

  // The record for `path` (compared as absolute paths), or nullptr.
  const SourceRecord* Find(const std::filesystem::path& path) const;
  SourceRecord* Find(const std::filesystem::path& path);
};

// The faces `faceswap train` leaves out for `faceswap eval`. Faces are counted in file
// order (sources, then their faces); runs of kHoldoutRun consecutive faces are held out,
// one run in every kHoldoutEvery (10%), so eval has neighbouring frames to measure
// flicker on and whole runs to keep apart when it trains its recogniser.
inline constexpr int kHoldoutRun = 4;
inline constexpr int kHoldoutEvery = 10;
inline constexpr const char* kHoldoutRule = "runs of 4 faces, 1 run in 10";
inline int64_t HoldoutRun(int64_t face_index) { return face_index / kHoldoutRun; }
inline bool IsHeldOut(int64_t face_index) { return HoldoutRun(face_index) % kHoldoutEvery == kHoldoutEvery - 1; }

// The form source paths and face folders are recorded and compared in: absolute, with
// symbolic links resolved (as far as the path exists).
std::filesystem::path AbsolutePath(const std::filesystem::path& path);
// A folder `faceswap extract` wrote (it holds an alignments file).
bool IsExtractFolder(const std::filesystem::path& path);

// Size and modification time of `path` for SourceRecord's identity check.
void StatSource(const std::filesystem::path& path, uint64_t& file_size, int64_t& mtime_ns);

// Throws InputError naming the file: unreadable, not JSON, wrong structure, or a version
// this build does not know.
AlignmentsFile LoadAlignments(const std::filesystem::path& path);
// The same from the file's text; `path` is what the errors name.
AlignmentsFile ParseAlignments(const std::string& text, const std::filesystem::path& path);
// Writes atomically (temporary file + rename). Throws OutputError.
void SaveAlignments(const AlignmentsFile& file, const std::filesystem::path& path);

}  // namespace faceswap::face
