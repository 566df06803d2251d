#pragma once
// video::Writer: encodes frames into a clip (H.264 by default) or a folder of images.
//
//   video::Writer writer(output, reader.info(), options);
//   while (reader.Next(frame)) writer.Write(frame);   // after swapping faces in frame.bgr
//   writer.Finish();                                   // flush, then rename into place
//
// What the output keeps from the source: the time base and every frame's pts (variable
// frame rate stays variable), the colour matrix, and the audio stream: copied packet for
// packet when the output container accepts its codec, re-encoded to AAC (or the
// container's own audio codec) only when it does not.
//
// The output is written under a temporary name beside it (core::TemporaryPathFor) and
// renamed by Finish(). A Writer destroyed without Finish() (an exception, Ctrl-C unwinding)
// removes the temporary: no half-written file ever appears under the final name.
//
// Output kind by path: a stream URL or /dev/ device (WriterOptions::live only), an existing folder, a path ending in '/', or a path without an
// extension is a folder of images (frame_000001.png ...); anything else is a video file
// whose container FFmpeg guesses from the extension (.mp4, .mkv, .mov, .webm, ...).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "faceswap/video/frame.h"
#include "faceswap/video/reader.h"

namespace faceswap::video {

// The default synthetic-media tag written into the output's `comment` metadata.
inline constexpr const char* kDefaultSyntheticTag =
    "synthetic media: faces altered by faceswap";

struct WriterOptions {
  std::string codec = "libx264";  // any FFmpeg video encoder by name (--codec)
  int crf = 18;                   // constant quality (--crf); sent as "cq" to NVENC encoders
  std::string preset = "medium";  // encoder speed preset (--preset); empty: encoder default
  // Written as the container's `comment` tag; empty writes no tag (--synthetic-tag "").
  std::string synthetic_tag = kDefaultSyntheticTag;
  bool keep_audio = true;  // copy (or re-encode) the source's audio
  // Where the audio comes from; unset: the source clip itself (MediaInfo::path).
  std::optional<std::filesystem::path> audio_source;
  int threads = 0;                  // encoder threads, 0: FFmpeg picks (all cores)
  std::string image_format = "png"; // folder output: "png" or "jpg"
  int jpeg_quality = 2;             // folder output as jpg: FFmpeg qscale, 2 (best) .. 31
  // A live output (faceswap live): low-latency encoding (x264's zerolatency tune, no
  // B-frames, a key frame every second so that late viewers can start) and, for stream URLs
  // (udp://, srt://, rtmp://, ...) and devices (/dev/videoN, e.g. a v4l2loopback virtual
  // camera, raw 4:2:0), writing straight there: no temporary name, no audio. Files still
  // appear only when finished.
  bool live = false;
  std::string format;               // force the container or device ("mpegts", "flv", "v4l2"); empty: guess

  void Check() const;  // throws UsageError naming the option
};

class Writer {
 public:
  // Opens the temporary output and the encoder. Throws UsageError for unknown codecs,
  // presets or containers, OutputError when the output cannot be written, InputError when
  // the audio source cannot be read.
  Writer(const std::filesystem::path& output, const MediaInfo& source,
         const WriterOptions& options = {});
  ~Writer();
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;

  // Encodes one frame (BGR, any size: it is scaled to the output size when it differs).
  // A frame with a kept 4:2:0 picture of the output's size is encoded from that picture
  // instead (encodes_yuv420).
  // frame.pts is in the source's time base; the first frame written becomes time 0.
  void Write(const Frame& frame);

  // Flushes the encoder, finishes the audio, writes the trailer and renames the result into
  // place. Throws OutputError when nothing was written or writing failed (nothing is left).
  void Finish();

  // Whether Write encodes a frame's kept 4:2:0 picture (Frame::yuv420) rather than its BGR
  // one: video files whose encoder takes 4:2:0 (libx264 does). Image folders write BGR.
  bool encodes_yuv420() const;

  const std::filesystem::path& output() const;
  int64_t frames_written() const;
  int width() const;   // of the output (even for video: odd source sizes lose a row/column)
  int height() const;
  // "copy", "aac" (re-encoded, or another codec name), or "" when the output has no audio.
  const std::string& audio_handling() const;

  struct Impl;  // public only so the two kinds of output can derive from it internally

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceswap::video
