// The video-file kind of video::Writer: libx264 (or any encoder) + the source's audio.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "ffmpeg_util.h"
#include "writer_impl.h"

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace fs = std::filesystem;

namespace faceswap::video::detail {
namespace {

struct OutputFormatDeleter {
  void operator()(AVFormatContext* ctx) const {
    if (ctx->pb && !(ctx->oformat->flags & AVFMT_NOFILE)) avio_closep(&ctx->pb);
    avformat_free_context(ctx);
  }
};
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;

struct AudioFifoDeleter {
  void operator()(AVAudioFifo* fifo) const { av_audio_fifo_free(fifo); }
};
using AudioFifoPtr = std::unique_ptr<AVAudioFifo, AudioFifoDeleter>;

// What an encoder accepts, as a list ending in the usual terminator, or null for "anything".
// FFmpeg 7.1 (libavcodec 61.13) deprecated AVCodec's pix_fmts, sample_fmts and
// supported_samplerates for avcodec_get_supported_config().
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(61, 13, 100)
template <typename T>
const T* Supported(const AVCodec* encoder, AVCodecConfig config) {
  const void* list = nullptr;
  if (avcodec_get_supported_config(nullptr, encoder, config, 0, &list, nullptr) < 0) return nullptr;
  return static_cast<const T*>(list);
}
const AVPixelFormat* PixelFormats(const AVCodec* encoder) {
  return Supported<AVPixelFormat>(encoder, AV_CODEC_CONFIG_PIX_FORMAT);
}
const AVSampleFormat* SampleFormats(const AVCodec* encoder) {
  return Supported<AVSampleFormat>(encoder, AV_CODEC_CONFIG_SAMPLE_FORMAT);
}
const int* SampleRates(const AVCodec* encoder) { return Supported<int>(encoder, AV_CODEC_CONFIG_SAMPLE_RATE); }
#else
const AVPixelFormat* PixelFormats(const AVCodec* encoder) { return encoder->pix_fmts; }
const AVSampleFormat* SampleFormats(const AVCodec* encoder) { return encoder->sample_fmts; }
const int* SampleRates(const AVCodec* encoder) { return encoder->supported_samplerates; }
#endif

// Prefer yuv420p, what every player decodes; otherwise what the encoder likes best for BGR.
AVPixelFormat ChoosePixelFormat(const AVCodec* encoder) {
  const AVPixelFormat* formats = PixelFormats(encoder);
  if (!formats) return AV_PIX_FMT_YUV420P;
  for (const AVPixelFormat* f = formats; *f != AV_PIX_FMT_NONE; ++f) {
    if (*f == AV_PIX_FMT_YUV420P) return *f;
  }
  return avcodec_find_best_pix_fmt_of_list(formats, AV_PIX_FMT_BGR24, 0, nullptr);
}

// Whether the source's audio goes into the container as it is. Raw PCM never goes into MP4:
// FFmpeg 5.1 (Debian 12) refuses it there, FFmpeg 7.1 (Debian 13) accepts it (ISO/IEC
// 23003-5), but few players play that, and its muxer fails at the end on PCM whose channel
// layout the source left unspecified (common in Matroska). AAC there, whatever the FFmpeg.
bool CanCopyAudio(const AVOutputFormat* container, AVCodecID codec) {
  const bool pcm = codec >= AV_CODEC_ID_FIRST_AUDIO && codec < AV_CODEC_ID_ADPCM_IMA_QT;
  if (pcm && std::string(container->name) == "mp4") return false;
  return avformat_query_codec(container, codec, FF_COMPLIANCE_NORMAL) == 1;
}

// The container a stream URL or device gets when none is asked for: MPEG-TS over datagram
// and byte protocols (what players and ffmpeg read from udp:// and srt://), FLV for RTMP,
// the v4l2 output device for /dev/videoN.
const char* LiveContainerFor(const std::string& address) {
  if (address.rfind("/dev/", 0) == 0) return "video4linux2";
  if (address.rfind("rtmp", 0) == 0) return "flv";
  return "mpegts";
}

bool HasPrivateOption(AVCodecContext* ctx, const char* name) {
  return ctx->priv_data && av_opt_find(ctx->priv_data, name, nullptr, 0, 0) != nullptr;
}

// The source's audio, copied or re-encoded, cut to the span of the written video.
class AudioTrack {
 public:
  AudioTrack(const fs::path& source, bool source_is_video_input, double video_start_seconds,
             AVFormatContext* output, const fs::path& output_path);
  // Re-encoding needs the encoder opened before the header is written; copying needs nothing.
  const std::string& handling() const { return handling_; }
  bool present() const { return out_stream_ != nullptr; }
  // Sets where output time 0 is, in seconds on the source's video timeline (first frame).
  void SetOrigin(double origin_seconds) {
    origin_ = origin_seconds;
    origin_set_ = true;
  }
  // Writes the audio packets that start before `until_seconds` (output timeline).
  void WriteUntil(double until_seconds);
  // Writes what is left up to `end_seconds` and flushes a re-encoder.
  void Finish(double end_seconds);

 private:
  void Deliver(AVPacket* packet);  // copy or re-encode one in-range source packet
  void DrainDecoder();
  void PrepareResampled(int samples);
  void EncodeFromFifo(bool flush);
  void WriteEncoded(bool flush);

  fs::path source_;
  fs::path output_path_;
  InputFormatPtr input_;
  AVStream* in_stream_ = nullptr;
  AVFormatContext* output_ = nullptr;
  AVStream* out_stream_ = nullptr;
  PacketPtr packet_ = AllocPacket();
  double timeline_offset_ = 0;  // source audio time minus video timeline time
  double origin_ = 0;
  bool origin_set_ = false;
  bool input_done_ = false;
  bool have_pending_ = false;  // packet_ holds a packet read but not yet written
  std::string handling_;

  // Re-encoding only.
  CodecContextPtr decoder_;
  CodecContextPtr encoder_;
  SwrPtr resampler_;
  AudioFifoPtr fifo_;
  FramePtr decoded_ = AllocFrame();
  FramePtr resampled_ = AllocFrame();
  FramePtr to_encode_ = AllocFrame();
  PacketPtr encoded_ = AllocPacket();
  int64_t samples_sent_ = 0;
};

AudioTrack::AudioTrack(const fs::path& source, bool source_is_video_input, double video_start_seconds,
                       AVFormatContext* output, const fs::path& output_path)
    : source_(source), output_path_(output_path), output_(output) {
  AVFormatContext* raw = nullptr;
  const int opened = avformat_open_input(&raw, source.c_str(), nullptr, nullptr);
  if (opened < 0) throw InputError(source, "cannot open for its audio (" + AvErrorText(opened) + ")");
  input_.reset(raw);
  if (avformat_find_stream_info(input_.get(), nullptr) < 0) {
    throw InputError(source, "cannot read stream information for its audio");
  }
  const int best = av_find_best_stream(input_.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (best < 0) {
    if (source_is_video_input) return;  // nothing to keep
    throw InputError(source, "no audio stream");
  }
  in_stream_ = input_->streams[best];
  for (unsigned i = 0; i < input_->nb_streams; ++i) {
    if (static_cast<int>(i) != best) input_->streams[i]->discard = AVDISCARD_ALL;
  }
  // Frame times are relative to the video stream's start; audio from the same file shares
  // that clock, audio from another file starts its own clock at its start.
  timeline_offset_ = source_is_video_input ? video_start_seconds
                                           : (in_stream_->start_time == AV_NOPTS_VALUE
                                                  ? 0.0
                                                  : in_stream_->start_time * av_q2d(in_stream_->time_base));
  const AVCodecParameters* in_par = in_stream_->codecpar;
  out_stream_ = avformat_new_stream(output, nullptr);
  if (!out_stream_) throw std::bad_alloc();

  if (CanCopyAudio(output->oformat, in_par->codec_id)) {
    // Copy: bit-exact audio, no generation loss, almost no CPU.
    avcodec_parameters_copy(out_stream_->codecpar, in_par);
    out_stream_->codecpar->codec_tag = 0;  // let the muxer pick its own tag for the codec
    out_stream_->time_base = in_stream_->time_base;
    handling_ = "copy";
    return;
  }

  // Re-encode: AAC when the container takes it, else the container's default audio codec.
  AVCodecID target = AV_CODEC_ID_AAC;
  if (avformat_query_codec(output->oformat, target, FF_COMPLIANCE_NORMAL) != 1) {
    target = output->oformat->audio_codec;
  }
  const AVCodec* encoder = target == AV_CODEC_ID_NONE ? nullptr : avcodec_find_encoder(target);
  const AVCodec* decoder = avcodec_find_decoder(in_par->codec_id);
  if (!encoder || !decoder) {
    throw OutputError(output_path, std::string("cannot carry the ") + avcodec_get_name(in_par->codec_id) +
                                       " audio of " + source.string() + " and has no encoder to convert it");
  }
  decoder_.reset(avcodec_alloc_context3(decoder));
  if (!decoder_) throw std::bad_alloc();
  avcodec_parameters_to_context(decoder_.get(), in_par);
  decoder_->pkt_timebase = in_stream_->time_base;
  if (avcodec_open2(decoder_.get(), decoder, nullptr) < 0) {
    throw InputError(source, std::string("cannot open the ") + decoder->name + " audio decoder");
  }
  encoder_.reset(avcodec_alloc_context3(encoder));
  if (!encoder_) throw std::bad_alloc();
  encoder_->sample_rate = decoder_->sample_rate;
  if (const int* rates = SampleRates(encoder)) {  // nearest rate the encoder supports
    int best_rate = rates[0];
    for (const int* r = rates; *r; ++r) {
      if (std::abs(*r - decoder_->sample_rate) < std::abs(best_rate - decoder_->sample_rate)) best_rate = *r;
    }
    encoder_->sample_rate = best_rate;
  }
  if (av_channel_layout_copy(&encoder_->ch_layout, &decoder_->ch_layout) < 0 ||
      encoder_->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&encoder_->ch_layout, std::max(1, decoder_->ch_layout.nb_channels));
  }
  const AVSampleFormat* sample_formats = SampleFormats(encoder);
  encoder_->sample_fmt = sample_formats ? sample_formats[0] : AV_SAMPLE_FMT_FLTP;
  encoder_->bit_rate = 64000LL * std::min(encoder_->ch_layout.nb_channels, 6);
  encoder_->time_base = AVRational{1, encoder_->sample_rate};
  if (output->oformat->flags & AVFMT_GLOBALHEADER) encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  const int enc_opened = avcodec_open2(encoder_.get(), encoder, nullptr);
  if (enc_opened < 0) {
    throw OutputError(output_path, std::string("cannot open the ") + encoder->name + " audio encoder (" +
                                       AvErrorText(enc_opened) + ")");
  }
  avcodec_parameters_from_context(out_stream_->codecpar, encoder_.get());
  out_stream_->time_base = encoder_->time_base;

  SwrContext* swr = nullptr;
  if (swr_alloc_set_opts2(&swr, &encoder_->ch_layout, encoder_->sample_fmt, encoder_->sample_rate,
                          &decoder_->ch_layout, decoder_->sample_fmt, decoder_->sample_rate, 0,
                          nullptr) < 0 ||
      swr_init(swr) < 0) {
    swr_free(&swr);
    throw OutputError(output_path, "cannot set up audio resampling");
  }
  resampler_.reset(swr);
  fifo_.reset(av_audio_fifo_alloc(encoder_->sample_fmt, encoder_->ch_layout.nb_channels, 4096));
  if (!fifo_) throw std::bad_alloc();
  handling_ = encoder->name;
}

void AudioTrack::WriteUntil(double until_seconds) {
  if (!out_stream_ || !origin_set_) return;
  const double tb = av_q2d(in_stream_->time_base);
  while (true) {
    if (!have_pending_) {
      if (input_done_) return;
      const int read = av_read_frame(input_.get(), packet_.get());
      if (read < 0) {
        // End of file, or a truncated source whose audio breaks off: keep what was copied.
        input_done_ = true;
        return;
      }
      if (packet_->stream_index != in_stream_->index || packet_->pts == AV_NOPTS_VALUE) {
        av_packet_unref(packet_.get());
        continue;
      }
      have_pending_ = true;
    }
    const double start = packet_->pts * tb - timeline_offset_ - origin_;  // output timeline
    // Held back until the video reaches it: keeps the interleaving tight and lets Finish()
    // drop audio that starts after the last frame.
    if (start >= until_seconds) return;
    const double end = start + packet_->duration * tb;
    // From the very start (origin 0) keep the encoder-priming packets before 0 too; after
    // a seek drop the audio that belongs before the first frame.
    const bool before_first_frame = origin_ > 1e-6 && end <= 0.0;
    if (!before_first_frame) Deliver(packet_.get());
    av_packet_unref(packet_.get());
    have_pending_ = false;
  }
}

void AudioTrack::DrainDecoder() {
  while (avcodec_receive_frame(decoder_.get(), decoded_.get()) == 0) {
    const int capacity = swr_get_out_samples(resampler_.get(), decoded_->nb_samples);
    PrepareResampled(std::max(capacity, 1));
    const int converted = swr_convert(resampler_.get(), resampled_->extended_data, resampled_->nb_samples,
                                      const_cast<const uint8_t**>(decoded_->extended_data),
                                      decoded_->nb_samples);
    if (converted > 0) {
      av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(resampled_->extended_data), converted);
    }
    av_frame_unref(decoded_.get());
    EncodeFromFifo(false);
  }
}

void AudioTrack::PrepareResampled(int samples) {
  av_frame_unref(resampled_.get());
  resampled_->format = encoder_->sample_fmt;
  resampled_->sample_rate = encoder_->sample_rate;
  av_channel_layout_copy(&resampled_->ch_layout, &encoder_->ch_layout);
  resampled_->nb_samples = samples;
  if (av_frame_get_buffer(resampled_.get(), 0) < 0) throw std::bad_alloc();
}

void AudioTrack::Deliver(AVPacket* packet) {
  const int64_t shift = std::llround((timeline_offset_ + origin_) / av_q2d(in_stream_->time_base));
  if (!decoder_) {
    packet->pts -= shift;
    if (packet->dts != AV_NOPTS_VALUE) packet->dts -= shift;
    packet->stream_index = out_stream_->index;
    packet->pos = -1;
    av_packet_rescale_ts(packet, in_stream_->time_base, out_stream_->time_base);
    const int written = av_interleaved_write_frame(output_, packet);
    if (written < 0) throw OutputError(output_path_, "writing audio failed (" + AvErrorText(written) + ")");
    return;
  }
  if (avcodec_send_packet(decoder_.get(), packet) < 0) return;  // skip a damaged packet
  DrainDecoder();
}

void AudioTrack::EncodeFromFifo(bool flush) {
  const int frame_size = encoder_->frame_size > 0 ? encoder_->frame_size : 1024;
  while (av_audio_fifo_size(fifo_.get()) >= frame_size || (flush && av_audio_fifo_size(fifo_.get()) > 0)) {
    const int n = std::min(frame_size, av_audio_fifo_size(fifo_.get()));
    av_frame_unref(to_encode_.get());
    to_encode_->nb_samples = n;
    to_encode_->format = encoder_->sample_fmt;
    to_encode_->sample_rate = encoder_->sample_rate;
    av_channel_layout_copy(&to_encode_->ch_layout, &encoder_->ch_layout);
    if (av_frame_get_buffer(to_encode_.get(), 0) < 0) throw std::bad_alloc();
    av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(to_encode_->data), n);
    to_encode_->pts = samples_sent_;
    samples_sent_ += n;
    if (avcodec_send_frame(encoder_.get(), to_encode_.get()) < 0) {
      throw OutputError(output_path_, "audio encoding failed");
    }
    WriteEncoded(false);
  }
}

void AudioTrack::WriteEncoded(bool flush) {
  if (flush) avcodec_send_frame(encoder_.get(), nullptr);
  while (avcodec_receive_packet(encoder_.get(), encoded_.get()) == 0) {
    encoded_->stream_index = out_stream_->index;
    av_packet_rescale_ts(encoded_.get(), encoder_->time_base, out_stream_->time_base);
    const int written = av_interleaved_write_frame(output_, encoded_.get());
    if (written < 0) throw OutputError(output_path_, "writing audio failed (" + AvErrorText(written) + ")");
  }
}

void AudioTrack::Finish(double end_seconds) {
  if (!out_stream_) return;
  WriteUntil(end_seconds);
  if (!decoder_) return;
  avcodec_send_packet(decoder_.get(), nullptr);
  DrainDecoder();
  PrepareResampled(4096);  // samples still inside the resampler
  const int tail = swr_convert(resampler_.get(), resampled_->extended_data, resampled_->nb_samples, nullptr, 0);
  if (tail > 0) av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(resampled_->extended_data), tail);
  EncodeFromFifo(true);
  WriteEncoded(true);
}

class VideoFileWriter : public Writer::Impl {
 public:
  VideoFileWriter(const fs::path& output, const MediaInfo& source, const WriterOptions& options);
  ~VideoFileWriter() override;
  void Write(const Frame& frame) override;
  void Finish() override;
  bool EncodesYuv420() const override { return encoder_->pix_fmt == AV_PIX_FMT_YUV420P; }

 private:
  void ConvertBgr(const Frame& frame);  // frame.bgr into yuv_, scaled to the output size
  void Encode(AVFrame* frame);  // nullptr flushes

  MediaInfo source_;
  bool direct_ = false;  // a live stream or device: written straight there
  fs::path temporary_;
  bool committed_ = false;
  OutputFormatPtr format_;
  CodecContextPtr encoder_;
  AVStream* stream_ = nullptr;
  std::unique_ptr<AudioTrack> audio_;
  SwsPtr sws_;
  int sws_src_width_ = 0, sws_src_height_ = 0;
  FramePtr yuv_ = AllocFrame();
  PacketPtr packet_ = AllocPacket();
  int64_t first_pts_ = AV_NOPTS_VALUE;
  int64_t last_pts_ = AV_NOPTS_VALUE;
  double last_frame_seconds_ = 0;  // output timeline
  double frame_seconds_ = 1.0 / 25;
};

VideoFileWriter::VideoFileWriter(const fs::path& output, const MediaInfo& source, const WriterOptions& options)
    : source_(source) {
  InstallLogBridge();
  this->output = output;
  direct_ = options.live && IsLiveAddress(output.string());
  temporary_ = direct_ ? output : core::TemporaryPathFor(output);
  if (options.live) RegisterDevicesAndNetwork();

  const AVOutputFormat* container = options.format.empty() ? nullptr : av_guess_format(options.format.c_str(), nullptr, nullptr);
  if (!options.format.empty() && !container) throw UsageError(output, "this FFmpeg has no output format '" + options.format + "'");
  if (!container && direct_) container = av_guess_format(LiveContainerFor(output.string()), nullptr, nullptr);
  if (!container) container = av_guess_format(nullptr, output.c_str(), nullptr);
  if (!container) {
    throw UsageError(output, "unknown output container for extension '" + output.extension().string() +
                                 "' (use .mp4, .mkv, .mov or .webm, or a folder for images)");
  }
  // A device (a v4l2loopback camera) takes raw pictures, not a compressed stream.
  const bool device = (container->flags & AVFMT_NOFILE) != 0;
  const std::string codec = device && options.codec == WriterOptions{}.codec ? "rawvideo" : options.codec;
  const AVCodec* encoder = avcodec_find_encoder_by_name(codec.c_str());
  if (!encoder || encoder->type != AVMEDIA_TYPE_VIDEO) {
    throw UsageError("--codec " + codec + ": no such video encoder in this FFmpeg build (`ffmpeg -encoders` lists them)");
  }
  // Stream muxers (MPEG-TS) cannot say what they hold (a negative answer): only a "no" stops a stream.
  const int holds = device ? 1 : avformat_query_codec(container, encoder->id, FF_COMPLIANCE_NORMAL);
  if (direct_ ? holds == 0 : holds != 1) {
    throw UsageError(output, std::string("the ") + container->name + " container cannot hold " +
                                 encoder->name + " video; choose another --codec or extension");
  }
  if (source.width <= 0 || source.height <= 0) throw UsageError(output, "source has no picture size");

  AVFormatContext* raw = nullptr;
  if (avformat_alloc_output_context2(&raw, container, nullptr, temporary_.c_str()) < 0 || !raw) {
    throw std::bad_alloc();
  }
  format_.reset(raw);

  encoder_.reset(avcodec_alloc_context3(encoder));
  if (!encoder_) throw std::bad_alloc();
  // 4:2:0 needs even sizes: drop the last row/column of odd sources (at most one pixel).
  AVPixelFormat pixel_format = ChoosePixelFormat(encoder);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(pixel_format);
  width = desc && desc->log2_chroma_w ? source.width & ~1 : source.width;
  height = desc && desc->log2_chroma_h ? source.height & ~1 : source.height;
  encoder_->width = width;
  encoder_->height = height;
  encoder_->pix_fmt = pixel_format;
  encoder_->sample_aspect_ratio = AVRational{1, 1};
  // The source's time base, so every source pts maps to itself: variable frame rate stays.
  AVRational time_base{source.time_base.num, source.time_base.den};
  if (time_base.num <= 0 || time_base.den <= 0) time_base = AVRational{1, 25};
  encoder_->time_base = time_base;
  if (source.frame_rate.num > 0 && source.frame_rate.den > 0) {
    encoder_->framerate = AVRational{source.frame_rate.num, source.frame_rate.den};
    frame_seconds_ = 1.0 / source.frame_rate.value();
  }
  encoder_->thread_count = options.threads;
  if (options.live) {
    encoder_->max_b_frames = 0;  // a B-frame holds its neighbours back: latency
    encoder_->gop_size = std::max(1, static_cast<int>(std::lround(1.0 / frame_seconds_)));
  }
  // Tag the colours as the source was tagged, and convert with the same matrix the Reader
  // used to decode them, so a decode+encode round trip does not shift colours.
  const int colorspace = source.color_space.empty() ? -1 : av_color_space_from_name(source.color_space.c_str());
  encoder_->colorspace = colorspace >= 0 ? static_cast<AVColorSpace>(colorspace) : AVCOL_SPC_UNSPECIFIED;
  if (encoder_->colorspace == AVCOL_SPC_BT709) {
    encoder_->color_primaries = AVCOL_PRI_BT709;
    encoder_->color_trc = AVCOL_TRC_BT709;
  }
  encoder_->color_range = AVCOL_RANGE_MPEG;
  if (format_->oformat->flags & AVFMT_GLOBALHEADER) encoder_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

  AVDictionary* codec_options = nullptr;
  if (HasPrivateOption(encoder_.get(), "crf")) {
    av_dict_set_int(&codec_options, "crf", options.crf, 0);
  } else if (HasPrivateOption(encoder_.get(), "cq")) {  // NVENC's constant-quality knob
    av_dict_set_int(&codec_options, "cq", options.crf, 0);
  } else {
    spdlog::warn("{}: the {} encoder has no constant-quality setting; --crf is ignored", output.string(), encoder->name);
  }
  if (!options.preset.empty()) {
    if (HasPrivateOption(encoder_.get(), "preset")) {
      av_dict_set(&codec_options, "preset", options.preset.c_str(), 0);
    } else {
      spdlog::warn("{}: the {} encoder has no presets; --preset is ignored", output.string(), encoder->name);
    }
  }
  if (options.live && HasPrivateOption(encoder_.get(), "tune")) {
    av_dict_set(&codec_options, "tune", "zerolatency", 0);  // x264/x265: no lookahead, no frame threads' delay
  }
  const int opened = avcodec_open2(encoder_.get(), encoder, &codec_options);
  av_dict_free(&codec_options);
  if (opened < 0) {
    throw UsageError(output, std::string("the ") + encoder->name + " encoder refused the settings (preset '" +
                                 options.preset + "', crf " + std::to_string(options.crf) + ", " +
                                 std::to_string(width) + "x" + std::to_string(height) + "): " + AvErrorText(opened));
  }
  stream_ = avformat_new_stream(format_.get(), nullptr);
  if (!stream_) throw std::bad_alloc();
  avcodec_parameters_from_context(stream_->codecpar, encoder_.get());
  stream_->time_base = encoder_->time_base;
  stream_->avg_frame_rate = encoder_->framerate;

  if (!direct_ && options.keep_audio && (options.audio_source || (source.has_audio && !source.is_image_input))) {
    const bool same_file = !options.audio_source;
    const fs::path audio_path = same_file ? source.path : *options.audio_source;
    const double video_start = source.start_pts * source.time_base.value();
    audio_ = std::make_unique<AudioTrack>(audio_path, same_file, video_start, format_.get(), output);
    audio_handling = audio_->present() ? audio_->handling() : "";
    if (!audio_->present()) audio_.reset();
  }

  if (!options.synthetic_tag.empty()) {
    av_dict_set(&format_->metadata, "comment", options.synthetic_tag.c_str(), 0);
  }

  const int io = device ? 0 : avio_open(&format_->pb, temporary_.c_str(), AVIO_FLAG_WRITE);
  if (io < 0 && direct_) throw OutputError(output, "cannot open the stream (" + AvErrorText(io) + ")");
  if (io < 0) {
    const fs::path folder = output.has_parent_path() ? output.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) throw OutputError(output, "cannot write: folder " + folder.string() + " does not exist");
    throw OutputError(output, "cannot write (" + AvErrorText(io) + ")");
  }
  AVDictionary* mux_options = nullptr;
  // MP4/MOV: move the index to the front so players can start before the whole file loads.
  if (std::string(container->name).find("mp4") != std::string::npos ||
      std::string(container->name).find("mov") != std::string::npos) {
    av_dict_set(&mux_options, "movflags", "+faststart", 0);
  }
  const int header = avformat_write_header(format_.get(), &mux_options);
  av_dict_free(&mux_options);
  if (header < 0) {
    if (format_->pb && !device) avio_closep(&format_->pb);
    std::error_code ignored;
    if (!direct_) fs::remove(temporary_, ignored);
    throw OutputError(output, "cannot write the container header (" + AvErrorText(header) + ")");
  }

  yuv_->format = encoder_->pix_fmt;
  yuv_->width = width;
  yuv_->height = height;
  if (av_frame_get_buffer(yuv_.get(), 0) < 0) throw std::bad_alloc();
}

VideoFileWriter::~VideoFileWriter() {
  if (committed_) return;
  if (direct_) return;  // a stream or device: nothing to take back (the deleter closes it)
  // Unfinished: close without a trailer and delete, so no partial file survives.
  if (format_ && format_->pb) avio_closep(&format_->pb);
  std::error_code ignored;
  fs::remove(temporary_, ignored);
}

void VideoFileWriter::Write(const Frame& frame) {
  if (committed_) throw Error(ExitCode::kInternal, output, "Write after Finish");
  if (first_pts_ == AV_NOPTS_VALUE) {
    first_pts_ = frame.pts;
    if (audio_) audio_->SetOrigin(frame.seconds);
  }
  int64_t pts = frame.pts - first_pts_;
  if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) pts = last_pts_ + 1;  // muxers need increasing
  last_pts_ = pts;
  last_frame_seconds_ = pts * av_q2d(encoder_->time_base);

  // A kept 4:2:0 picture of the output's size and format is encoded as it is: no BGR round
  // trip for the pixels nobody changed (Frame::yuv420).
  const bool as_kept = !frame.yuv420.empty() && encoder_->pix_fmt == AV_PIX_FMT_YUV420P &&
                       frame.yuv420.cols == width && frame.yuv420.rows == height * 3 / 2 &&
                       frame.bgr.cols == width && frame.bgr.rows == height && frame.yuv420.isContinuous();
  // The encoder may still hold a reference to the last frame's buffer (lookahead).
  if (av_frame_make_writable(yuv_.get()) < 0) throw std::bad_alloc();
  if (as_kept) {
    uint8_t* planes[4];
    int strides[4];
    av_image_fill_arrays(planes, strides, frame.yuv420.data, AV_PIX_FMT_YUV420P, width, height, 1);
    av_image_copy(yuv_->data, yuv_->linesize, const_cast<const uint8_t**>(planes), strides, AV_PIX_FMT_YUV420P,
                  width, height);
  } else {
    ConvertBgr(frame);
  }
  yuv_->pts = pts;
  Encode(yuv_.get());
  if (audio_) audio_->WriteUntil(last_frame_seconds_);
}

void VideoFileWriter::ConvertBgr(const Frame& frame) {
  // Cropping odd sizes: convert only the even top-left part (the same data pointer works).
  const int src_width = frame.bgr.cols == source_.width ? width : frame.bgr.cols;
  const int src_height = frame.bgr.rows == source_.height ? height : frame.bgr.rows;
  if (!sws_ || src_width != sws_src_width_ || src_height != sws_src_height_) {
    sws_.reset(sws_getContext(src_width, src_height, AV_PIX_FMT_BGR24, width, height, encoder_->pix_fmt,
                              SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
    if (!sws_) throw OutputError(output, "cannot convert frames to " + std::string(av_get_pix_fmt_name(encoder_->pix_fmt)));
    sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1,
                             sws_getCoefficients(encoder_->colorspace), 0, 0, 1 << 16, 1 << 16);
    sws_src_width_ = src_width;
    sws_src_height_ = src_height;
  }
  const uint8_t* src_data[4] = {frame.bgr.data, nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(frame.bgr.step[0]), 0, 0, 0};
  sws_scale(sws_.get(), src_data, src_stride, 0, src_height, yuv_->data, yuv_->linesize);
}

void VideoFileWriter::Encode(AVFrame* frame) {
  const int sent = avcodec_send_frame(encoder_.get(), frame);
  if (sent < 0) throw OutputError(output, "video encoding failed (" + AvErrorText(sent) + ")");
  while (true) {
    const int received = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) return;
    if (received < 0) throw OutputError(output, "video encoding failed (" + AvErrorText(received) + ")");
    packet_->stream_index = stream_->index;
    av_packet_rescale_ts(packet_.get(), encoder_->time_base, stream_->time_base);
    const int written = av_interleaved_write_frame(format_.get(), packet_.get());
    if (written < 0) throw OutputError(output, "writing video failed (" + AvErrorText(written) + ")");
  }
}

void VideoFileWriter::Finish() {
  if (committed_) return;
  if (frames_written == 0) throw OutputError(output, "no frames to write; nothing was saved");
  Encode(nullptr);
  if (audio_) audio_->Finish(last_frame_seconds_ + frame_seconds_);
  const int trailer = av_write_trailer(format_.get());
  const int closed = format_->pb && !(format_->oformat->flags & AVFMT_NOFILE) ? avio_closep(&format_->pb) : 0;
  if (trailer < 0 || closed < 0) {
    throw OutputError(output, "finishing the file failed (" + AvErrorText(trailer < 0 ? trailer : closed) + ")");
  }
  if (!direct_) core::CommitFile(temporary_, output);
  committed_ = true;
}

}  // namespace

std::unique_ptr<Writer::Impl> MakeVideoFileWriter(const fs::path& output, const MediaInfo& source,
                                                  const WriterOptions& options) {
  return std::make_unique<VideoFileWriter>(output, source, options);
}

}  // namespace faceswap::video::detail
