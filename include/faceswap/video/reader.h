#pragma once
// video::Reader: frames out of any clip FFmpeg can open, a single image, or a folder of
// images (natural order: 2.png before 10.png). Frames come out upright and BGR.
//
//   video::Reader reader(path, options);
//   video::Frame frame;
//   while (reader.Next(frame)) { ... }
//   if (reader.broken()) spdlog::warn(...reader.break_message())
//
// Missing files, non-media files and inputs without a video stream throw InputError from
// the constructor. A stream that breaks mid-way (truncated file) ends Next() early and
// sets broken() with a message naming the last good frame.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "faceswap/video/frame.h"

namespace faceswap::video {

struct ReaderOptions {
  double start_seconds = 0.0;             // seek here first (--start)
  std::optional<double> end_seconds;      // stop before frames at or after this (--end)
  int threads = 0;                        // decoder threads, 0: FFmpeg picks (all cores)
  bool keep_yuv420 = false;               // also fill Frame::yuv420 where the stream allows
  // A live source (faceswap live): a camera (/dev/video0), any FFmpeg input URL (udp://,
  // srt://, rtmp://, http://) or a screen grab. The input is handed to FFmpeg as it is (no
  // file check), opened with little buffering and probing, and a source that sends
  // nothing for stall_seconds ends Next() with broken() set.
  bool live = false;
  double stall_seconds = 5;
  std::string format;                     // force an input format ("v4l2", "x11grab"); empty: guess
  std::string video_size;                 // asked of a camera ("640x360"); empty: its default
  std::string framerate;                  // asked of a camera ("30"); empty: its default
  void Check() const;                     // throws UsageError
};

struct MediaInfo {
  std::filesystem::path path;
  int width = 0;                  // upright, after rotation
  int height = 0;
  Rational frame_rate;            // average frame rate (images: 25/1 by convention)
  Rational time_base;             // of the video stream
  int64_t frame_count = 0;        // estimate from the container (0 when unknown)
  double duration_seconds = 0.0;  // 0 when unknown
  int rotation_degrees = 0;       // display rotation that was applied (0, 90, 180, 270)
  bool has_audio = false;
  std::string video_codec;        // e.g. "h264"; "image" for image inputs
  std::string audio_codec;        // empty without audio
  bool is_image_input = false;    // single image or folder of images
  // Colour description of the video stream, so a writer can tag its output the same way.
  std::string color_space;        // FFmpeg's name ("bt709", "smpte170m"); empty: unspecified
  bool full_range = false;        // JPEG/full-range YUV rather than limited (16-235)
  int64_t start_pts = 0;          // the video stream's first timestamp (time_base units)
};

class Reader {
 public:
  explicit Reader(const std::filesystem::path& input, const ReaderOptions& options = {});
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;

  const MediaInfo& info() const;

  // Fills `frame` with the next frame; false at the end (or where the stream broke).
  bool Next(Frame& frame);

  bool broken() const;                  // the stream ended early because of damage
  const std::string& break_message() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceswap::video
