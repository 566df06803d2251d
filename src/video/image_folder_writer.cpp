// The image-folder kind of video::Writer: frame_000001.png ... encoded by FFmpeg's PNG or
// MJPEG encoder (not OpenCV's imgcodecs, which a GPU build wants to drop).

#include <cstdio>
#include <fstream>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "ffmpeg_util.h"
#include "writer_impl.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace fs = std::filesystem;

namespace faceswap::video::detail {
namespace {

class ImageFolderWriter : public Writer::Impl {
 public:
  ImageFolderWriter(const fs::path& output, const MediaInfo& source, const WriterOptions& options);
  ~ImageFolderWriter() override;
  void Write(const Frame& frame) override;
  void Finish() override;

 private:
  void OpenEncoder(int frame_width, int frame_height);

  WriterOptions options_;
  fs::path temporary_folder_;
  bool committed_ = false;
  CodecContextPtr encoder_;
  SwsPtr sws_;
  FramePtr picture_ = AllocFrame();
  PacketPtr packet_ = AllocPacket();
};

ImageFolderWriter::ImageFolderWriter(const fs::path& output, const MediaInfo& source, const WriterOptions& options)
    : options_(options) {
  InstallLogBridge();
  this->output = output;
  width = source.width;
  height = source.height;
  // Frames go to a hidden sibling folder first; Finish() moves them in. A failed run leaves
  // neither a half-filled output folder nor the temporary one.
  fs::path trimmed = output;
  if (!trimmed.has_filename()) trimmed = trimmed.parent_path();
  temporary_folder_ = core::TemporaryPathFor(trimmed);
  std::error_code ec;
  fs::create_directories(temporary_folder_, ec);
  if (ec) throw OutputError(output, "cannot write (" + ec.message() + ")");
}

ImageFolderWriter::~ImageFolderWriter() {
  if (committed_) return;
  std::error_code ignored;
  core::RemoveTree(temporary_folder_, ignored);
}

void ImageFolderWriter::OpenEncoder(int frame_width, int frame_height) {
  const bool png = options_.image_format == "png";
  const AVCodec* codec = avcodec_find_encoder(png ? AV_CODEC_ID_PNG : AV_CODEC_ID_MJPEG);
  if (!codec) throw OutputError(output, "this FFmpeg build has no " + options_.image_format + " encoder");
  encoder_.reset(avcodec_alloc_context3(codec));
  if (!encoder_) throw std::bad_alloc();
  encoder_->width = frame_width;
  encoder_->height = frame_height;
  encoder_->time_base = AVRational{1, 25};
  // PNG keeps RGB exactly; JPEG wants full-range 4:2:0 (what cameras write).
  encoder_->pix_fmt = png ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_YUVJ420P;
  if (!png) {
    encoder_->flags |= AV_CODEC_FLAG_QSCALE;
    encoder_->global_quality = FF_QP2LAMBDA * options_.jpeg_quality;
    encoder_->color_range = AVCOL_RANGE_JPEG;
  }
  const int opened = avcodec_open2(encoder_.get(), codec, nullptr);
  if (opened < 0) throw OutputError(output, "cannot open the image encoder (" + AvErrorText(opened) + ")");
  sws_.reset(sws_getContext(frame_width, frame_height, AV_PIX_FMT_BGR24, frame_width, frame_height,
                            encoder_->pix_fmt, SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!sws_) throw std::bad_alloc();
  av_frame_unref(picture_.get());
  picture_->format = encoder_->pix_fmt;
  picture_->width = frame_width;
  picture_->height = frame_height;
  if (av_frame_get_buffer(picture_.get(), 0) < 0) throw std::bad_alloc();
}

void ImageFolderWriter::Write(const Frame& frame) {
  if (!encoder_ || encoder_->width != frame.bgr.cols || encoder_->height != frame.bgr.rows) {
    OpenEncoder(frame.bgr.cols, frame.bgr.rows);  // images of a folder may differ in size
  }
  if (av_frame_make_writable(picture_.get()) < 0) throw std::bad_alloc();
  const uint8_t* src_data[4] = {frame.bgr.data, nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(frame.bgr.step[0]), 0, 0, 0};
  sws_scale(sws_.get(), src_data, src_stride, 0, frame.bgr.rows, picture_->data, picture_->linesize);
  picture_->pts = frames_written;
  if (avcodec_send_frame(encoder_.get(), picture_.get()) < 0 ||
      avcodec_receive_packet(encoder_.get(), packet_.get()) < 0) {
    throw OutputError(output, "image encoding failed at frame " + std::to_string(frames_written));
  }
  char name[32];
  std::snprintf(name, sizeof(name), "frame_%06lld.%s", static_cast<long long>(frames_written + 1),
                options_.image_format.c_str());
  const fs::path file = temporary_folder_ / name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(packet_->data), packet_->size);
  av_packet_unref(packet_.get());
  out.close();  // a write that fails only when the buffer is flushed must fail here too
  if (!out) throw OutputError(output / name, "write failed (" + core::WriteFailure(errno) + ")");
}

void ImageFolderWriter::Finish() {
  if (committed_) return;
  if (frames_written == 0) throw OutputError(output, "no frames to write; nothing was saved");
  std::error_code ec;
  if (!fs::exists(output, ec) || (fs::is_directory(output, ec) && fs::is_empty(output, ec))) {
    fs::remove(output, ec);  // an empty folder given as the target is replaced whole
    core::CommitFile(temporary_folder_, output);
  } else {
    if (!fs::is_directory(output, ec)) throw OutputError(output, "exists and is not a folder");
    // A folder with files already: move the frames in one by one (each rename is atomic).
    for (const auto& entry : fs::directory_iterator(temporary_folder_)) {
      core::CommitFile(entry.path(), output / entry.path().filename());
    }
    fs::remove(temporary_folder_, ec);
  }
  committed_ = true;
}

}  // namespace

std::unique_ptr<Writer::Impl> MakeImageFolderWriter(const fs::path& output, const MediaInfo& source,
                                                    const WriterOptions& options) {
  return std::make_unique<ImageFolderWriter>(output, source, options);
}

}  // namespace faceswap::video::detail
