#include "faceswap/video/writer.h"

#include "faceswap/core/error.h"
#include "ffmpeg_util.h"
#include "writer_impl.h"

namespace faceswap::video {

void WriterOptions::Check() const {
  if (codec.empty()) throw UsageError("--codec must name a video encoder, e.g. libx264");
  if (crf < 0 || crf > 63) throw UsageError("--crf must be between 0 and 63 (got " + std::to_string(crf) + ")");
  if (threads < 0) throw UsageError("--threads must be 0 (automatic) or more");
  if (image_format != "png" && image_format != "jpg") {
    throw UsageError("image output format must be png or jpg (got '" + image_format + "')");
  }
  if (jpeg_quality < 2 || jpeg_quality > 31) throw UsageError("jpeg quality must be between 2 and 31");
  if (synthetic_tag.find('\0') != std::string::npos) throw UsageError("--synthetic-tag contains a NUL byte");
}

Writer::Writer(const std::filesystem::path& output, const MediaInfo& source, const WriterOptions& options) {
  options.Check();
  if (output.empty()) throw UsageError("no output path given");
  const bool stream = options.live && detail::IsLiveAddress(output.string());
  if (!options.live && detail::IsLiveAddress(output.string())) {
    throw UsageError(output, "streams and devices are outputs of `faceswap live`, not of files' conversions");
  }
  impl_ = !stream && detail::IsImageFolderOutput(output) ? detail::MakeImageFolderWriter(output, source, options)
                                                         : detail::MakeVideoFileWriter(output, source, options);
}

Writer::~Writer() = default;
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

void Writer::Write(const Frame& frame) {
  if (frame.bgr.empty() || frame.bgr.type() != CV_8UC3) {
    throw Error(ExitCode::kInternal, impl_->output, "Writer::Write needs a non-empty 8-bit BGR frame");
  }
  impl_->Write(frame);
  ++impl_->frames_written;
}

void Writer::Finish() { impl_->Finish(); }
bool Writer::encodes_yuv420() const { return impl_->EncodesYuv420(); }
const std::filesystem::path& Writer::output() const { return impl_->output; }
int64_t Writer::frames_written() const { return impl_->frames_written; }
int Writer::width() const { return impl_->width; }
int Writer::height() const { return impl_->height; }
const std::string& Writer::audio_handling() const { return impl_->audio_handling; }

namespace detail {
bool IsImageFolderOutput(const std::filesystem::path& output) {
  std::error_code ec;
  if (std::filesystem::is_directory(output, ec)) return true;
  const std::string text = output.string();
  if (!text.empty() && text.back() == '/') return true;
  return !output.has_extension();
}
}  // namespace detail

}  // namespace faceswap::video
