#include "stream_decoder.h"

extern "C" {
#include <libavutil/display.h>
}

#include <spdlog/spdlog.h>

#include <cmath>

#include "faceswap/core/error.h"
#include "faceswap/core/stop_signal.h"

namespace faceswap::video::detail {

int StreamDecoder::Interrupted(void* self) {
  auto* decoder = static_cast<StreamDecoder*>(self);
  if (core::StopSignals::requested()) return 1;
  if (decoder->stall_seconds_ > 0 && std::chrono::steady_clock::now() > decoder->deadline_) {
    decoder->stalled_ = true;
    return 1;
  }
  return 0;
}

void StreamDecoder::ArmDeadline(double seconds) {
  deadline_ = std::chrono::steady_clock::now() +
              std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

StreamDecoder::StreamDecoder(const std::filesystem::path& path, int threads, const LiveInput& live)
    : path_(path), packet_(AllocPacket()) {
  InstallLogBridge();
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw std::bad_alloc();
  AVDictionary* open_options = nullptr;
  const AVInputFormat* forced = nullptr;
  if (live.enabled) {
    RegisterDevicesAndNetwork();
    // Start from the first packets rather than buffering and probing seconds of stream.
    raw->flags |= AVFMT_FLAG_NOBUFFER;
    raw->probesize = 1 << 20;
    raw->max_analyze_duration = AV_TIME_BASE;  // 1 s
    raw->interrupt_callback = {&StreamDecoder::Interrupted, this};
    stall_seconds_ = live.stall_seconds;
    ArmDeadline(2 * stall_seconds_);  // opening and probing may wait for a key frame
    if (!live.format.empty()) {
      forced = av_find_input_format(live.format.c_str());
      if (!forced) throw InputError(path, "this FFmpeg has no input format '" + live.format + "'");
    }
    if (!live.video_size.empty()) av_dict_set(&open_options, "video_size", live.video_size.c_str(), 0);
    if (!live.framerate.empty()) av_dict_set(&open_options, "framerate", live.framerate.c_str(), 0);
  } else {
    // A single image named like "shot%03d.png" must not be read as a numbered pattern.
    av_dict_set(&open_options, "pattern_type", "none", 0);
  }
  const int opened = avformat_open_input(&raw, path.c_str(), forced, &open_options);
  av_dict_free(&open_options);
  if (opened < 0) {
    if (stalled_) throw InputError(path, "nothing arrived for " + std::to_string(static_cast<int>(2 * stall_seconds_)) + " s");
    if (core::StopSignals::requested()) throw Error(ExitCode::kInterrupted, path.string() + ": interrupted while opening");
    if (opened == AVERROR(ENOENT)) throw InputError(path, "no such file or folder");
    if (opened == AVERROR(EACCES)) throw InputError(path, "permission denied");
    throw InputError(path, "not a media file FFmpeg can read (" + AvErrorText(opened) + ")");
  }
  format_.reset(raw);
  const int probed = avformat_find_stream_info(format_.get(), nullptr);
  if (probed < 0 && stalled_) throw InputError(path, "no video arrived to probe within " + std::to_string(static_cast<int>(2 * stall_seconds_)) + " s");
  if (probed < 0) {
    throw InputError(path, "cannot read stream information (" + AvErrorText(probed) + ")");
  }
  const AVCodec* decoder = nullptr;
  const int best = av_find_best_stream(format_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (best == AVERROR_STREAM_NOT_FOUND) throw InputError(path, "no video stream");
  if (best < 0 || !decoder) {
    throw InputError(path, "no decoder for its video stream (" + AvErrorText(best) + ")");
  }
  stream_ = format_->streams[best];
  // Other streams are demuxed but never decoded; discarding them saves the packet copies.
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    if (static_cast<int>(i) != best) format_->streams[i]->discard = AVDISCARD_ALL;
  }

  codec_.reset(avcodec_alloc_context3(decoder));
  if (!codec_) throw std::bad_alloc();
  if (avcodec_parameters_to_context(codec_.get(), stream_->codecpar) < 0) {
    throw InputError(path, "unsupported video stream parameters");
  }
  codec_->pkt_timebase = stream_->time_base;
  // Frame threading decodes several frames at once (the big win for H.264/HEVC); slice
  // threading helps codecs and streams that cannot do frames in parallel.
  codec_->thread_count = threads;
  codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  const int codec_opened = avcodec_open2(codec_.get(), decoder, nullptr);
  if (codec_opened < 0) {
    throw InputError(path, std::string("cannot open the ") + decoder->name + " decoder (" +
                               AvErrorText(codec_opened) + ")");
  }
}

bool StreamDecoder::Decode(AVFrame* frame) {
  av_frame_unref(frame);
  while (!finished_) {
    const int received = avcodec_receive_frame(codec_.get(), frame);
    if (received == 0) return true;
    if (received == AVERROR_EOF) {
      finished_ = true;
      break;
    }
    if (received != AVERROR(EAGAIN)) {
      // A damaged frame the decoder could not conceal: skip it and keep going.
      spdlog::debug("{}: decoder error ({})", path_.string(), AvErrorText(received));
      ++rejected_packets_;
      continue;
    }
    if (draining_) {  // EAGAIN while draining should not happen; end rather than spin.
      finished_ = true;
      break;
    }
    if (stall_seconds_ > 0) ArmDeadline(stall_seconds_);
    const int read = av_read_frame(format_.get(), packet_.get());
    if (read < 0) {
      if (read != AVERROR_EOF) read_error_ = AvErrorText(read);
      draining_ = true;
      avcodec_send_packet(codec_.get(), nullptr);  // flush the frames still in flight
      continue;
    }
    if (packet_->stream_index == stream_->index) {
      const int sent = avcodec_send_packet(codec_.get(), packet_.get());
      if (sent < 0 && sent != AVERROR(EAGAIN)) {
        ++rejected_packets_;
        spdlog::debug("{}: packet rejected by the decoder ({})", path_.string(), AvErrorText(sent));
      }
    }
    av_packet_unref(packet_.get());
  }
  return false;
}

bool StreamDecoder::SeekBefore(double seconds) {
  const int64_t start = stream_->start_time == AV_NOPTS_VALUE ? 0 : stream_->start_time;
  const int64_t target =
      start + static_cast<int64_t>(std::floor(seconds / av_q2d(stream_->time_base)));
  if (av_seek_frame(format_.get(), stream_->index, target, AVSEEK_FLAG_BACKWARD) < 0) {
    return false;
  }
  avcodec_flush_buffers(codec_.get());
  draining_ = false;
  finished_ = false;
  return true;
}

int RotationFromDisplayMatrix(const int32_t* matrix) {
  // av_display_rotation_get gives the counter-clockwise angle the picture was rotated by;
  // undoing it means turning clockwise by the same amount (what ffmpeg's autorotate does).
  const double counter_clockwise = av_display_rotation_get(matrix);
  if (std::isnan(counter_clockwise)) return 0;
  int degrees = static_cast<int>(std::lround(-counter_clockwise / 90.0)) * 90;
  degrees %= 360;
  if (degrees < 0) degrees += 360;
  return degrees;
}

}  // namespace faceswap::video::detail
