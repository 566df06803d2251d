#pragma once
// pipeline::Convert: the whole swap of one clip, image or image folder.
//
//   read -> track faces -> align crops -> model (batched) -> colour match -> mask
//        -> blend into the frame -> encode (with the source's audio)
//
// Decoding, tracking, the model and encoding each run on their own thread and the
// per-frame blending on a small pool, joined by bounded queues; a reorder buffer puts
// frames back in order before the writer, so memory stays flat on long clips. The stages
// are classes in src/pipeline/stages/, shared with `faceswap live` (live.h).
// Frames without a face pass through untouched.
//
// Whose faces change: by default only the faces of the model's source identity. Each
// track's face-recognition descriptor (face::TrackIdentities) is matched against the mean
// descriptors train recorded per identity; faces of anybody else are left as they are.
// Without --to (two-identity models) the first face that matches an identity decides the
// direction. `only_reference` swaps only the person in that photo; `swap_all` swaps every
// face (also what happens, with a warning, for models without descriptors).
//
// Every frame in which a face was swapped gets the invisible watermark (watermark/), whose
// payload names this build, the day and the model; `faceswap verify` reads it back.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "faceswap/pipeline/swap_options.h"
#include "faceswap/video/reader.h"
#include "faceswap/video/writer.h"

namespace faceswap::pipeline {

struct ConvertOptions : SwapOptions {
  std::filesystem::path input;
  std::filesystem::path output;     // clip, image file (.png/.jpg) or folder of images
  video::ReaderOptions reader;      // --start / --end
  video::WriterOptions writer;      // --codec, --crf, --preset, --synthetic-tag
  int preview = 0;                  // write this many before|after PNGs beside the output
  void Check() const;               // UsageError
};

struct ConvertStats {
  int64_t frames = 0;
  int64_t frames_with_faces = 0;
  int64_t faces_swapped = 0;
  int64_t faces_left = 0;           // faces of other people, left untouched
  int64_t tracks_left = 0;          // ... in this many tracks
  std::string filter;               // how faces were chosen, for the log
  bool input_broken = false;        // the input ended early (truncated); output has what was there
  double seconds = 0;
  // Busy time of each stage in seconds (stages overlap, so these add up to more than `seconds`).
  double decode_seconds = 0, track_seconds = 0, model_seconds = 0, blend_seconds = 0, encode_seconds = 0;
};

ConvertStats Convert(const ConvertOptions& options);

}  // namespace faceswap::pipeline
