#pragma once
// Internal: demuxes one file and decodes its best video stream into AVFrames. The Reader
// uses one for a clip and one per image for image inputs.

#include <chrono>
#include <filesystem>
#include <string>

#include "ffmpeg_util.h"

namespace faceswap::video::detail {

// How a live source (camera, stream URL, screen grab) is opened; files need none of it.
struct LiveInput {
  bool enabled = false;
  double stall_seconds = 5;   // a read that waits longer than this fails (the source went silent)
  std::string format;         // force a demuxer or device ("v4l2", "x11grab"); empty: guess
  std::string video_size;     // asked of cameras ("640x360"); empty: the device's default
  std::string framerate;      // asked of cameras ("30"); empty: the device's default
};

class StreamDecoder {
 public:
  // Throws InputError naming `path` when it cannot be opened, is not media or has no
  // video stream. threads: 0 lets FFmpeg pick (one per core).
  StreamDecoder(const std::filesystem::path& path, int threads, const LiveInput& live = {});

  // Next decoded frame into `frame` (unreferenced first). False at the end of the stream,
  // or where reading failed (then read_error() says why).
  bool Decode(AVFrame* frame);

  // Seeks so that decoding resumes at or before `seconds` (from the stream start).
  // Returns false when the container cannot seek; decoding then simply starts at 0.
  bool SeekBefore(double seconds);

  AVFormatContext* format() const { return format_.get(); }
  AVStream* stream() const { return stream_; }
  AVCodecContext* codec() const { return codec_.get(); }
  int stream_index() const { return stream_->index; }
  const std::string& read_error() const { return read_error_; }
  bool stalled() const { return stalled_; }  // the last read failed because the source was silent
  int64_t rejected_packets() const { return rejected_packets_; }

 private:
  std::filesystem::path path_;
  InputFormatPtr format_;
  CodecContextPtr codec_;
  AVStream* stream_ = nullptr;
  PacketPtr packet_;
  bool draining_ = false;
  bool finished_ = false;
  std::string read_error_;
  // Live sources: FFmpeg's interrupt callback fails a read that waits past the deadline,
  // or at once when Ctrl-C was pressed (core::StopSignals).
  static int Interrupted(void* self);
  void ArmDeadline(double seconds);
  double stall_seconds_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  bool stalled_ = false;
  int64_t rejected_packets_ = 0;  // packets the decoder refused as invalid data
};

// "rotation in degrees clockwise to make the picture upright", from a display matrix
// (0, 90, 180 or 270; other angles are rounded to the nearest quarter turn).
int RotationFromDisplayMatrix(const int32_t* matrix);

}  // namespace faceswap::video::detail
