#pragma once
// pipeline::Extract: faces out of clips, images and image folders into aligned PNG crops
// plus alignments.json (face/alignments_file.h). A library call with no CLI assumptions:
// `faceswap extract` and train's face cache both call it.
//
// Each input file is one source (a folder contributes each image in it). Sources run in
// parallel, one worker thread each, up to `threads`; within a clip frames go in order
// through one face::Tracker. alignments.json is saved atomically after every finished
// source, so an interrupted run loses at most the sources in progress, and a re-run skips
// every source that is complete with the same path, size, modification time and settings.
//
// With the face-recognition network present, the first face of every track and one in
// face::kDescriptorEvery after it get a descriptor, and the tracks are grouped into people
// (face/people.h) each time; `by_identity` also writes a folder per person
// (person_folders.h).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "faceswap/face/align.h"
#include "faceswap/face/detector.h"
#include "faceswap/face/people.h"
#include "faceswap/face/tracker.h"

namespace faceswap::pipeline {

struct ExtractOptions {
  std::vector<std::filesystem::path> inputs;  // clips, images or folders of images
  std::filesystem::path output_dir;           // crops and alignments.json go here
  face::AlignOptions align;                   // crop size and coverage
  int every = 1;                              // process frames with index % every == 0
  face::DetectorOptions detector;             // min face size, upsampling, landmark model
  face::TrackerOptions tracker;               // selection, redetect interval, smoothing
  bool tracking = true;                       // false: detect on every processed frame
  int threads = 0;                            // worker threads; 0: all cores
  bool show_progress = true;                  // a core::Progress bar on stderr
  bool by_identity = false;                   // also write person_N/ folders (needs the network)

  void Check() const;  // throws UsageError / InputError
};

struct SourceStats {
  std::filesystem::path path;
  int64_t frames_read = 0;       // decoded frames
  int64_t frames_processed = 0;  // of those, the ones looked at (every N)
  int64_t frames_with_face = 0;
  int64_t faces_saved = 0;
  bool skipped = false;          // already complete in alignments.json
  std::string warning;           // e.g. truncated clip
  double seconds = 0.0;          // wall time for this source
};

struct ExtractStats {
  int64_t frames_read = 0;
  int64_t frames_processed = 0;
  int64_t frames_with_face = 0;
  int64_t faces_saved = 0;
  int sources_done = 0;
  int sources_skipped = 0;
  double seconds = 0.0;
  std::vector<SourceStats> sources;  // in input order
  bool described = false;            // descriptors were computed (the network is present)
  std::vector<face::PersonSummary> people;  // everyone in the folder's alignments, person 0 first
  std::vector<std::filesystem::path> person_folders;  // by_identity
  double FramesPerSecond() const { return seconds > 0 ? frames_processed / seconds : 0.0; }
};

ExtractStats Extract(const ExtractOptions& options);

// The sources `inputs` expand to (folders into their image files, sorted), absolute.
std::vector<std::filesystem::path> ExpandInputs(const std::vector<std::filesystem::path>& inputs);

}  // namespace faceswap::pipeline
