#include "ffmpeg_util.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavdevice/avdevice.h>
}

#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>
#include <new>

namespace faceswap::video::detail {

FramePtr AllocFrame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  return frame;
}

PacketPtr AllocPacket() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  return packet;
}

std::string AvErrorText(int error_code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(error_code, text, sizeof(text));
  return text;
}

namespace {
void ForwardToSpdlog(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_WARNING) return;
  if (!spdlog::should_log(spdlog::level::debug)) return;
  thread_local int print_prefix = 1;  // decoder threads log too
  char line[1024];
  av_log_format_line(avcl, level, format, args, line, sizeof(line), &print_prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!text.empty()) spdlog::debug("ffmpeg: {}", text);
}
}  // namespace

void InstallLogBridge() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(ForwardToSpdlog); });
}

void RegisterDevicesAndNetwork() {
  static std::once_flag once;
  std::call_once(once, [] {
    avdevice_register_all();
    avformat_network_init();
  });
}

bool IsLiveAddress(const std::string& path) {
  return path.find("://") != std::string::npos || path.rfind("/dev/", 0) == 0;
}

}  // namespace faceswap::video::detail
