#pragma once
// Internal to the video module: RAII owners for FFmpeg objects, error text, and the log
// bridge. Nothing here is part of the public API (public headers stay FFmpeg-free).

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace faceswap::video::detail {

struct InputFormatDeleter {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct SwsDeleter {
  void operator()(SwsContext* ctx) const { sws_freeContext(ctx); }
};
struct SwrDeleter {
  void operator()(SwrContext* ctx) const { swr_free(&ctx); }
};
struct DictionaryDeleter {
  void operator()(AVDictionary* dict) const { av_dict_free(&dict); }
};

using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;

FramePtr AllocFrame();    // throws std::bad_alloc
PacketPtr AllocPacket();  // throws std::bad_alloc

// av_strerror as a std::string ("Invalid data found when processing input").
std::string AvErrorText(int error_code);

// FFmpeg prints warnings straight to stderr by default ("partial file", "deprecated pixel
// format"). We report problems ourselves in one clear line, so route FFmpeg's own log to
// spdlog's debug level: visible with --verbose, silent otherwise. Idempotent.
void InstallLogBridge();

// libavdevice's inputs and outputs (v4l2 cameras and loopback devices, x11grab) and the
// network protocols, registered once. Idempotent.
void RegisterDevicesAndNetwork();

// Whether a path names a stream or device rather than a file: "proto://..." or /dev/...
bool IsLiveAddress(const std::string& path);

}  // namespace faceswap::video::detail
