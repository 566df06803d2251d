#include "faceswap/pipeline/convert.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <memory>
#include <set>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/folder_lock.h"
#include "faceswap/core/progress.h"
#include "faceswap/core/stop_signal.h"
#include "faceswap/model/swapper.h"
#include "stages/stage_chain.h"
#include "stages/swap_setup.h"

namespace fs = std::filesystem;

namespace faceswap::pipeline {
namespace {

bool IsImageFile(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

std::set<int64_t> PreviewIndices(int count, int64_t frame_count) {
  std::set<int64_t> indices;
  if (count <= 0) return indices;
  if (frame_count <= 0) {
    for (int i = 0; i < count; ++i) indices.insert(i);
  } else {
    for (int i = 0; i < count; ++i) indices.insert(frame_count * (2 * i + 1) / (2 * count));
  }
  return indices;
}

fs::path PreviewDir(const fs::path& output) {
  return output.parent_path() / (output.stem().string() + "-preview");
}

void WritePng(const fs::path& path, const cv::Mat& image) {
  std::vector<uchar> bytes;
  const std::string ext = path.extension().string();
  if (!cv::imencode(ext.empty() ? ".png" : ext, image, bytes)) throw OutputError(path, "cannot encode image");
  core::WriteFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace

void ConvertOptions::Check() const {
  if (input.empty() || output.empty() || model_dir.empty()) throw UsageError("convert needs an input, -o and -m");
  if (fs::exists(output) && fs::equivalent(input, output)) throw UsageError(output.string() + ": output would overwrite the input");
  if (preview < 0) throw UsageError("--preview must be >= 0");
  SwapOptions::Check();
  reader.Check();
  writer.Check();
}

namespace {

// The sink of convert: every frame, in order, into the output clip, image or folder, and
// the preview pairs beside it.
class ClipSink {
 public:
  ClipSink(const ConvertOptions& o, const video::MediaInfo& info)
      : output_(o.output), progress_("convert", info.frame_count, "frames") {
    if (!IsImageFile(o.output)) writer_ = std::make_unique<video::Writer>(o.output, info, o.writer);
    if (o.preview > 0) core::EnsureDirectory(PreviewDir(o.output));
  }

  bool encodes_yuv420() const { return writer_ && writer_->encodes_yuv420(); }

  void Write(Item& item) {
    if (writer_) {
      writer_->Write(item.frame);
    } else {
      WritePng(output_, item.frame.bgr);
    }
    if (!item.original.empty()) {
      cv::Mat pair;
      cv::hconcat(item.original, item.frame.bgr, pair);
      char name[48];
      std::snprintf(name, sizeof name, "frame_%06lld.png", static_cast<long long>(item.frame.index));
      WritePng(PreviewDir(output_) / name, pair);
    }
    ++frames_;
    if (!item.faces.empty()) {
      ++frames_with_faces_;
      faces_swapped_ += static_cast<int64_t>(item.faces.size());
    }
    progress_.SetStatus(std::to_string(faces_swapped_) + " faces");
    progress_.Advance();
  }

  void Finish() {
    progress_.Finish();
    if (writer_) writer_->Finish();
  }

  int64_t frames() const { return frames_; }
  int64_t frames_with_faces() const { return frames_with_faces_; }
  int64_t faces_swapped() const { return faces_swapped_; }

 private:
  fs::path output_;
  std::unique_ptr<video::Writer> writer_;
  core::Progress progress_;
  int64_t frames_ = 0, frames_with_faces_ = 0, faces_swapped_ = 0;
};

}  // namespace

ConvertStats Convert(const ConvertOptions& o) {
  o.Check();
  core::RequireExists(o.input);
  // One convert per output (a second one stops here, exit 4); then what killed runs left.
  const core::OutputLock output_lock(o.output, "faceswap convert");
  core::RemoveStaleTemporariesOf(o.output);
  const auto start = Clock::now();
  SwapSetup setup(o);

  video::ReaderOptions reader_options = o.reader;
  if (reader_options.threads == 0) reader_options.threads = setup.budget.decoder;
  // A video output is encoded from the decoded 4:2:0 pictures with only the faces' regions
  // converted back from BGR (Frame::yuv420): the same pixels elsewhere, and less to encode.
  reader_options.keep_yuv420 = !IsImageFile(o.output);
  video::Reader reader(o.input, reader_options);
  const video::MediaInfo& info = reader.info();
  if (IsImageFile(o.output) && !info.is_image_input) {
    throw UsageError(o.output.string() + ": a video input needs a video or folder output, not an image file");
  }
  ClipSink sink(o, info);
  const bool encode_yuv420 = sink.encodes_yuv420();

  ChainOptions chain_options;
  // Tracking costs little on most frames and a lot on a few (searching with the CNN after
  // a face is lost: ~0.8 s a pass). A lead of tracked frames keeps the network, blending and
  // the encoder busy meanwhile instead of waiting on the tracker (person_b's ad: about a
  // core idle for 3 s with a lead of 8): as many frames as fit in kLeadBytes.
  constexpr double kLeadBytes = 256.0 * 1024 * 1024;
  const double frame_bytes = (encode_yuv420 ? 4.5 : 3.0) * std::max(1, info.width) * std::max(1, info.height);
  chain_options.tracked_capacity = static_cast<size_t>(std::clamp(kLeadBytes / frame_bytes, 8.0, 128.0));
  // Frames held while a lost face may come back (GapBridge): half a second at 30 fps up to
  // 1080p, fewer for larger frames, as the lead.
  chain_options.bridge_frames = static_cast<size_t>(std::clamp(kLeadBytes / frame_bytes, 8.0, 16.0));
  chain_options.batch_size = o.batch_size;
  // Blending, the one per-frame stage that can, runs on a few workers.
  chain_options.composite_workers = setup.budget.blend_workers;

  FaceStage faces(setup.tracker_loaded.get(), setup.filter, setup.swapper, PreviewIndices(o.preview, info.frame_count));
  SwapStage swap(setup.swapper, o.batch_size, setup.filter.target());
  core::StopSignals stop_signals;  // Ctrl-C: stop reading, unwind, delete the temporary output
  StageChain chain(
      chain_options,
      [&](video::Frame& frame) {
        if (!reader.Next(frame)) return false;
        if (!encode_yuv420) frame.yuv420.release();
        return true;
      },
      faces, swap,
      [&] { return std::make_unique<CompositeStage>(o.composite, setup.mark, o.watermark, info.color_space); });
  chain.Run([&](Item& item) { sink.Write(item); });
  if (core::StopSignals::requested()) throw Error(ExitCode::kInterrupted, o.output.string() + ": interrupted; no output written");
  if (sink.frames() == 0) throw InputError(o.input, "no frames could be decoded");
  sink.Finish();

  ConvertStats stats;
  stats.frames = sink.frames();
  stats.input_broken = reader.broken();
  if (reader.broken()) spdlog::warn("{}", reader.break_message());
  stats.faces_swapped = sink.faces_swapped();
  stats.faces_left = faces.faces_left();
  stats.tracks_left = faces.tracks_left();
  stats.filter = setup.filter.description();
  stats.frames_with_faces = sink.frames_with_faces();
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const StageTimes times = chain.times();
  stats.decode_seconds = times.source;
  stats.track_seconds = times.faces;
  stats.model_seconds = times.network;
  stats.blend_seconds = times.composite;
  stats.encode_seconds = times.sink;
  return stats;
}

}  // namespace faceswap::pipeline
