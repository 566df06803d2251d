#include "faceswap/pipeline/live.h"

#include <opencv2/highgui.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/progress.h"
#include "faceswap/core/stop_signal.h"
#include "faceswap/model/swapper.h"
#include "stages/stage_chain.h"
#include "stages/swap_setup.h"

namespace fs = std::filesystem;

namespace faceswap::pipeline {
namespace {

bool IsStreamOrDevice(const std::string& address) {
  return address.find("://") != std::string::npos || address.rfind("/dev/", 0) == 0;
}

// Frames from the reader, each handed over no earlier than its own time after the first
// when the input is a file played in real time (--realtime): a file standing in for a camera.
class PacedSource {
 public:
  PacedSource(video::Reader& reader, bool paced) : reader_(reader), paced_(paced) {}

  bool Next(video::Frame& frame) {
    if (!reader_.Next(frame)) return false;
    ++frames_;
    if (!paced_) return true;
    if (frames_ == 1) {
      start_wall_ = Clock::now();
      start_seconds_ = frame.seconds;
    }
    const auto due = start_wall_ + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(frame.seconds - start_seconds_));
    // In short steps, so that Ctrl-C is not kept waiting behind a long frame gap.
    while (Clock::now() < due && !core::StopSignals::requested()) {
      std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), std::chrono::milliseconds(20)));
    }
    return true;
  }

  int64_t frames() const { return frames_; }

 private:
  video::Reader& reader_;
  bool paced_;
  int64_t frames_ = 0;
  Clock::time_point start_wall_;
  double start_seconds_ = 0;
};

// A window showing the swapped frames with a status line; q or Esc asks to stop.
class PreviewWindow {
 public:
  static constexpr const char* kTitle = "faceswap live";

  PreviewWindow() { cv::namedWindow(kTitle, cv::WINDOW_AUTOSIZE); }
  ~PreviewWindow() { cv::destroyWindow(kTitle); }

  void Show(const cv::Mat& frame, const std::string& status) {
    frame.copyTo(canvas_);
    const int height = 22;
    cv::rectangle(canvas_, cv::Rect(0, 0, canvas_.cols, height), cv::Scalar(0, 0, 0), cv::FILLED);
    cv::putText(canvas_, status, cv::Point(6, height - 6), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(255, 255, 255), 1,
                cv::LINE_AA);
    cv::imshow(kTitle, canvas_);
    const int key = cv::waitKey(1);
    if (key == 'q' || key == 27) core::StopSignals::Request();
  }

 private:
  cv::Mat canvas_;
};

// The sink of live: every frame to every output and the window, with its latency.
class LiveSink {
 public:
  LiveSink(const LiveOptions& o, const video::MediaInfo& info) {
    video::WriterOptions writer_options = o.writer;
    writer_options.live = true;
    writer_options.keep_audio = false;
    for (const std::string& output : o.outputs) {
      writers_.push_back(std::make_unique<video::Writer>(output, info, writer_options));
    }
    if (o.window) window_ = std::make_unique<PreviewWindow>();
  }

  void Write(Item& item, int64_t dropped) {
    for (auto& writer : writers_) writer->Write(item.frame);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - item.arrived).count();
    latencies_ms_.push_back(ms);
    faces_swapped_ += static_cast<int64_t>(item.faces.size());
    const std::string status = Status(ms, dropped, item.faces.size());
    if (window_) window_->Show(item.frame.bgr, status);
    progress_.SetStatus(status);
    progress_.Advance();
  }

  void Finish() {
    progress_.Finish();
    for (auto& writer : writers_) {
      if (writer->frames_written() > 0) writer->Finish();
    }
  }

  int64_t frames() const { return static_cast<int64_t>(latencies_ms_.size()); }
  int64_t faces_swapped() const { return faces_swapped_; }
  std::vector<double> latencies_ms() const { return latencies_ms_; }

 private:
  std::string Status(double ms, int64_t dropped, size_t faces) const {
    char text[96];
    std::snprintf(text, sizeof text, "%.1f fps | latency %.0f ms | %lld dropped | %zu face%s", progress_.Rate(), ms,
                  static_cast<long long>(dropped), faces, faces == 1 ? "" : "s");
    return text;
  }

  std::vector<std::unique_ptr<video::Writer>> writers_;
  std::unique_ptr<PreviewWindow> window_;
  core::Progress progress_{"live", 0, "frames"};
  std::vector<double> latencies_ms_;
  int64_t faces_swapped_ = 0;
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  const size_t k = static_cast<size_t>(std::lround(p * static_cast<double>(values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace

void LiveOptions::Check() const {
  if (input.empty() || outputs.empty() || model_dir.empty()) throw UsageError("live needs -m, an input and at least one output");
  SwapOptions::Check();
  if (!(max_latency_seconds > 0)) throw UsageError("--max-latency must be above 0 ms");
  if (realtime && IsStreamOrDevice(input)) throw UsageError(input + ": --realtime is for files; streams and cameras set their own pace");
  for (const std::string& output : outputs) {
    if (output == input) throw UsageError(output + ": output would overwrite the input");
  }
  if (window && !std::getenv("DISPLAY")) throw UsageError("--window needs a display (DISPLAY is not set)");
  reader.Check();
  writer.Check();
}

LiveStats Live(const LiveOptions& o) {
  o.Check();
  const bool stream = IsStreamOrDevice(o.input);
  if (!stream) core::RequireExists(o.input);
  SwapSetup setup(o);
  // A stream cannot stop for a second at its first face while the exemplars are read:
  // those of whoever may be drawn are read now.
  setup.swapper.PrepareExemplars(setup.filter.target());
  FaceStage faces(setup.tracker_loaded.get(), setup.filter, setup.swapper);
  SwapStage swap(setup.swapper, o.batch_size, setup.filter.target());

  core::StopSignals stop_signals;  // Ctrl-C ends the stream cleanly (also while the input is opened)
  video::ReaderOptions reader_options = o.reader;
  reader_options.live = stream;
  if (reader_options.threads == 0) reader_options.threads = setup.budget.decoder;
  video::Reader reader(o.input, reader_options);
  const video::MediaInfo& info = reader.info();
  spdlog::info("{}: {}x{} at {:.2f} frames/s; swapping {}", o.input, info.width, info.height, info.frame_rate.value(),
               setup.filter.description());
  LiveSink sink(o, info);

  ChainOptions chain_options;
  // Small queues: whatever waits in them is latency. A stream or a paced file is never
  // waited for; a plain file input (no --realtime) is converted without dropping.
  chain_options.decoded_capacity = 2;
  chain_options.tracked_capacity = 2;
  chain_options.batch_size = o.batch_size;
  chain_options.composite_workers = setup.budget.blend_workers;
  chain_options.drop.real_time = stream || o.realtime;
  chain_options.drop.max_age_seconds = o.max_latency_seconds;
  PacedSource source(reader, o.realtime);
  StageChain chain(
      chain_options, [&](video::Frame& frame) { return source.Next(frame); }, faces, swap,
      [&] { return std::make_unique<CompositeStage>(o.composite, setup.mark, o.watermark, info.color_space); });
  const auto start = Clock::now();
  chain.Run([&](Item& item) { sink.Write(item, chain.dropped()); });
  sink.Finish();

  LiveStats stats;
  stats.frames_in = source.frames();
  stats.frames_out = sink.frames();
  stats.frames_dropped = chain.dropped();
  stats.faces_swapped = sink.faces_swapped();
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::vector<double> latencies = sink.latencies_ms();
  stats.latency_p50_ms = Percentile(latencies, 0.50);
  stats.latency_p95_ms = Percentile(latencies, 0.95);
  stats.latency_max_ms = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  stats.filter = setup.filter.description();
  if (!core::StopSignals::requested() && reader.broken()) stats.input_problem = reader.break_message();
  return stats;
}

std::string DescribeLiveStats(const LiveStats& s) {
  char text[256];
  std::snprintf(text, sizeof text,
                "live: %lld frames in, %lld out, %lld dropped in %.1f s (%.1f frames/s out); latency p50 %.0f ms, "
                "p95 %.0f ms, max %.0f ms",
                static_cast<long long>(s.frames_in), static_cast<long long>(s.frames_out),
                static_cast<long long>(s.frames_dropped), s.seconds, s.frames_out / std::max(1e-9, s.seconds),
                s.latency_p50_ms, s.latency_p95_ms, s.latency_max_ms);
  return text;
}

}  // namespace faceswap::pipeline
