#include "faceswap/video/reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "bgr_converter.h"
#include "faceswap/core/error.h"
#include "image_files.h"
#include "stream_decoder.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

namespace fs = std::filesystem;

namespace faceswap::video {

using detail::AllocFrame;
using detail::BgrConverter;
using detail::FramePtr;
using detail::StreamDecoder;

namespace {
// Image inputs have no clock of their own; 25 fps is FFmpeg's image2 default.
constexpr Rational kImageFrameRate{25, 1};

std::string FormatSeconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f s", seconds);
  return text;
}

int StreamRotation(const AVStream* stream) {
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
  // FFmpeg 6.1 moved a stream's side data into its codec parameters.
  const AVPacketSideData* side = av_packet_side_data_get(
      stream->codecpar->coded_side_data, stream->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  const auto* matrix = side && side->size >= 9 * sizeof(int32_t) ? reinterpret_cast<const int32_t*>(side->data) : nullptr;
#else
  const auto* matrix = reinterpret_cast<const int32_t*>(
      av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
#endif
  if (matrix) return detail::RotationFromDisplayMatrix(matrix);
  // Older muxers wrote only a "rotate" tag (clockwise degrees) and no matrix.
  if (const AVDictionaryEntry* tag = av_dict_get(stream->metadata, "rotate", nullptr, 0)) {
    const int degrees = ((std::atoi(tag->value) % 360) + 360) % 360;
    return (degrees + 45) / 90 * 90 % 360;
  }
  return 0;
}

int FrameRotation(const AVFrame* frame) {
  const AVFrameSideData* side = av_frame_get_side_data(frame, AV_FRAME_DATA_DISPLAYMATRIX);
  if (!side || side->size < 9 * sizeof(int32_t)) return 0;
  return detail::RotationFromDisplayMatrix(reinterpret_cast<const int32_t*>(side->data));
}
}  // namespace

void ReaderOptions::Check() const {
  if (!std::isfinite(start_seconds) || start_seconds < 0) {
    throw UsageError("--start must be a time of 0 seconds or more");
  }
  if (end_seconds && (!std::isfinite(*end_seconds) || *end_seconds <= start_seconds)) {
    throw UsageError("--end must be later than --start");
  }
  if (threads < 0) throw UsageError("decoder threads must be 0 (automatic) or more");
  if (live && (!std::isfinite(stall_seconds) || stall_seconds <= 0)) throw UsageError("--stall must be a time above 0 seconds");
}

namespace {

// Frame::yuv420 from a decoded picture, or released where the picture is not the kind a
// writer can take as it is (rotated, other pixel formats or range, odd sizes).
void KeepYuv420(const AVFrame* picture, int rotation, cv::Mat& yuv420) {
  const int w = picture->width, h = picture->height;
  if (rotation != 0 || picture->format != AV_PIX_FMT_YUV420P || picture->color_range == AVCOL_RANGE_JPEG ||
      w % 2 || h % 2) {
    yuv420.release();
    return;
  }
  detail::PrepareExclusive(yuv420, h * 3 / 2, w, CV_8UC1);  // a queue may still hold the last one
  av_image_copy_to_buffer(yuv420.data, static_cast<int>(yuv420.total()), picture->data, picture->linesize,
                          AV_PIX_FMT_YUV420P, w, h, 1);
}

}  // namespace

struct Reader::Impl {
  fs::path input;
  ReaderOptions options;
  MediaInfo info;

  // A clip: one decoder for the whole file.
  std::unique_ptr<StreamDecoder> clip;
  int rotation = 0;
  double frame_seconds = 1.0 / 25;  // nominal frame duration, for tolerances
  int64_t last_pts = AV_NOPTS_VALUE;

  // Images: the files, and the one to decode next.
  std::vector<fs::path> images;
  size_t next_image = 0;

  FramePtr decoded = AllocFrame();
  BgrConverter converter;
  int64_t next_index = 0;
  double last_seconds = -1.0;
  bool finished = false;
  bool broken = false;
  std::string break_message;

  void OpenClip();
  void OpenImages();
  bool NextFromClip(Frame& frame);
  bool NextFromImages(Frame& frame);
  void CheckClipEndedWhole();
  void MarkBroken(const std::string& problem);
};

void Reader::Impl::OpenClip() {
  detail::LiveInput live;
  live.enabled = options.live;
  live.stall_seconds = options.stall_seconds;
  live.format = options.format;
  live.video_size = options.video_size;
  live.framerate = options.framerate;
  clip = std::make_unique<StreamDecoder>(input, options.threads, live);
  const AVStream* stream = clip->stream();
  const AVCodecParameters* par = stream->codecpar;
  if (par->width <= 0 || par->height <= 0) throw InputError(input, "video stream has no picture size");
  rotation = StreamRotation(stream);
  const bool quarter = rotation == 90 || rotation == 270;
  info.width = quarter ? par->height : par->width;
  info.height = quarter ? par->width : par->height;
  info.rotation_degrees = rotation;
  AVRational rate = stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = AVRational{25, 1};
  info.frame_rate = {rate.num, rate.den};
  frame_seconds = 1.0 / av_q2d(rate);
  info.time_base = {stream->time_base.num, stream->time_base.den};
  info.start_pts = stream->start_time == AV_NOPTS_VALUE ? 0 : stream->start_time;
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    info.duration_seconds = stream->duration * av_q2d(stream->time_base);
  } else if (clip->format()->duration != AV_NOPTS_VALUE && clip->format()->duration > 0) {
    info.duration_seconds = clip->format()->duration / static_cast<double>(AV_TIME_BASE);
  }
  info.frame_count = stream->nb_frames > 0
                         ? stream->nb_frames
                         : static_cast<int64_t>(std::llround(info.duration_seconds * av_q2d(rate)));
  info.video_codec = avcodec_get_name(par->codec_id);
  if (const char* name = av_color_space_name(par->color_space);
      name && par->color_space != AVCOL_SPC_UNSPECIFIED) {
    info.color_space = name;
  }
  info.full_range = par->color_range == AVCOL_RANGE_JPEG;
  const AVFormatContext* format = clip->format();
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    if (format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
      info.has_audio = true;
      info.audio_codec = avcodec_get_name(format->streams[i]->codecpar->codec_id);
      break;
    }
  }
  // The count estimate covers only the requested range.
  if (options.start_seconds > 0 || options.end_seconds) {
    const double end = options.end_seconds ? std::min(*options.end_seconds, info.duration_seconds)
                                           : info.duration_seconds;
    info.frame_count =
        std::max<int64_t>(0, std::llround((end - options.start_seconds) * av_q2d(rate)));
  }
  if (options.start_seconds > 0 && !clip->SeekBefore(options.start_seconds)) {
    spdlog::debug("{}: cannot seek; decoding from the start up to {}", input.string(),
                  FormatSeconds(options.start_seconds));
  }
}

void Reader::Impl::OpenImages() {
  info.is_image_input = true;
  info.video_codec = "image";
  info.frame_rate = kImageFrameRate;
  info.time_base = {kImageFrameRate.den, kImageFrameRate.num};
  frame_seconds = 1.0 / kImageFrameRate.value();
  if (fs::is_directory(input)) {
    images = detail::ListImagesNaturally(input);
    if (images.empty()) {
      throw InputError(input, "folder has no images (png, jpg, jpeg, bmp, tif, tiff, webp)");
    }
  } else {
    images = {input};
  }
  // The first image fixes the reported size; it is opened now so that a bad first file is
  // an error from the constructor rather than an empty stream.
  StreamDecoder first(images.front(), 1);
  FramePtr probe = AllocFrame();
  if (!first.Decode(probe.get())) throw InputError(images.front(), "image cannot be decoded");
  const int turn = FrameRotation(probe.get());
  const bool quarter = turn == 90 || turn == 270;
  info.width = quarter ? probe->height : probe->width;
  info.height = quarter ? probe->width : probe->height;
  info.rotation_degrees = turn;
  info.color_space.clear();
  info.full_range = true;
  // Skip to --start; images are numbered at 25 per second.
  const double rate = kImageFrameRate.value();
  next_image = static_cast<size_t>(std::ceil(options.start_seconds * rate - 1e-9));
  size_t end_image = images.size();
  if (options.end_seconds) {
    end_image = std::min(end_image, static_cast<size_t>(std::ceil(*options.end_seconds * rate - 1e-9)));
  }
  images.resize(std::max(end_image, next_image));
  info.frame_count = static_cast<int64_t>(images.size() - std::min(next_image, images.size()));
  info.duration_seconds = static_cast<double>(images.size()) / rate;
}

void Reader::Impl::MarkBroken(const std::string& problem) {
  broken = true;
  const std::string where = next_index == 0 ? "before the first frame"
                                            : "after frame " + std::to_string(next_index - 1) +
                                                  " (" + FormatSeconds(last_seconds) + ")";
  break_message = input.string() + ": " + problem + "; decoding stopped " + where;
}

bool Reader::Impl::NextFromClip(Frame& frame) {
  const AVStream* stream = clip->stream();
  const double time_base = av_q2d(stream->time_base);
  const int64_t ticks_per_frame = std::max<int64_t>(1, std::llround(frame_seconds / time_base));
  while (clip->Decode(decoded.get())) {
    int64_t pts = decoded->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE) {
      pts = last_pts == AV_NOPTS_VALUE ? info.start_pts : last_pts + ticks_per_frame;
    }
    // Downstream (encoders, muxers) needs strictly increasing timestamps; a repeated one
    // from a damaged stream is nudged forward rather than the frame being dropped.
    if (last_pts != AV_NOPTS_VALUE && pts <= last_pts) pts = last_pts + 1;
    const double seconds = (pts - info.start_pts) * time_base;
    // After a seek the decoder restarts at the key frame before --start: skip the pre-roll.
    if (seconds < options.start_seconds - frame_seconds / 2) continue;
    last_pts = pts;
    if (options.end_seconds && seconds >= *options.end_seconds - 1e-9) {
      finished = true;
      return false;
    }
    converter.Convert(decoded.get(), rotation, frame.bgr);
    if (options.keep_yuv420) {
      KeepYuv420(decoded.get(), rotation, frame.yuv420);
    } else {
      frame.yuv420.release();
    }
    frame.index = next_index++;
    frame.pts = pts;
    frame.seconds = seconds;
    last_seconds = seconds;
    return true;
  }
  finished = true;
  CheckClipEndedWhole();
  return false;
}

void Reader::Impl::CheckClipEndedWhole() {
  if (clip->stalled()) {
    MarkBroken("the source sent nothing for " + FormatSeconds(options.stall_seconds));
    return;
  }
  if (!clip->read_error().empty()) {
    MarkBroken("read error (" + clip->read_error() + ")");
    return;
  }
  if (next_index == 0) {
    MarkBroken("no frame could be decoded (damaged or truncated file)");
    return;
  }
  if (options.live) return;  // a stream just ends; it has no length to compare with
  // A truncated file has an index (mp4 moov) promising more than the data holds: the
  // demuxer just reaches end of file early. Compare where the frames stopped with where
  // the video stream says it ends. Only the stream's own duration is trusted: a
  // container duration can include a longer audio track.
  const AVStream* stream = clip->stream();
  if (stream->duration == AV_NOPTS_VALUE || stream->duration <= 0) return;
  const double stream_end = stream->duration * av_q2d(stream->time_base);
  const double expected_last = stream_end - frame_seconds;
  const double tolerance = std::max(0.5, 3 * frame_seconds);
  if (last_seconds < expected_last - tolerance) {
    MarkBroken("truncated or damaged: the index promises " + FormatSeconds(stream_end) +
               " of video but the data ends early");
  }
}

bool Reader::Impl::NextFromImages(Frame& frame) {
  frame.yuv420.release();  // images come as BGR only
  if (next_image >= images.size()) {
    finished = true;
    return false;
  }
  const fs::path& file = images[next_image];
  try {
    StreamDecoder image(file, 1);
    if (!image.Decode(decoded.get())) {
      finished = true;
      MarkBroken(file.string() + " cannot be decoded");
      return false;
    }
  } catch (const InputError& error) {
    finished = true;
    MarkBroken(error.what());
    return false;
  }
  converter.Convert(decoded.get(), FrameRotation(decoded.get()), frame.bgr);
  frame.index = next_index++;
  frame.pts = static_cast<int64_t>(next_image);
  frame.seconds = static_cast<double>(next_image) / kImageFrameRate.value();
  last_seconds = frame.seconds;
  ++next_image;
  return true;
}

Reader::Reader(const fs::path& input, const ReaderOptions& options) : impl_(std::make_unique<Impl>()) {
  options.Check();
  impl_->input = input;
  impl_->options = options;
  impl_->info.path = input;
  std::error_code ec;
  if (options.live) {
    impl_->OpenClip();
    return;
  }
  if (!fs::exists(input, ec)) throw InputError(input, "no such file or folder");
  if (fs::is_directory(input, ec) || detail::IsImageFile(input)) {
    impl_->OpenImages();
  } else {
    impl_->OpenClip();
  }
}

Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

const MediaInfo& Reader::info() const { return impl_->info; }

bool Reader::Next(Frame& frame) {
  if (impl_->finished) return false;
  return impl_->clip ? impl_->NextFromClip(frame) : impl_->NextFromImages(frame);
}

bool Reader::broken() const { return impl_->broken; }
const std::string& Reader::break_message() const { return impl_->break_message; }

}  // namespace faceswap::video
