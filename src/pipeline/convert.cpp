#include "faceswap/pipeline/convert.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/job_queue.h"
#include "faceswap/core/progress.h"
#include "faceswap/core/stop_signal.h"
#include "faceswap/face/align.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/pipeline/composite.h"
#include "faceswap/model/swapper.h"

namespace fs = std::filesystem;

namespace faceswap::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

struct SwapJob {
  face::Face face;
  face::AlignedFace aligned;
  model::SwapOutput swapped;
};

struct Item {
  video::Frame frame;
  cv::Mat original;  // kept only for preview frames
  std::vector<SwapJob> faces;
};

bool IsImageFile(const fs::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// Elapsed busy time of one stage; each stage is owned by one thread except blending.
class StageTimer {
 public:
  void Add(Clock::time_point since) {
    const double s = std::chrono::duration<double>(Clock::now() - since).count();
    std::lock_guard<std::mutex> lock(mutex_);
    total_ += s;
  }
  double total() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return total_;
  }

 private:
  mutable std::mutex mutex_;
  double total_ = 0;
};

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

// Which identity the clip shows: the decoder that redraws its faces best.
int GuessSourceIdentity(model::Swapper& swapper, const std::vector<cv::Mat>& crops) {
  int best = 0;
  double best_error = 1e300;
  for (int id = 0; id < static_cast<int>(swapper.info().identities.size()); ++id) {
    const auto out = swapper.Swap(crops, id);
    double error = 0;
    for (size_t i = 0; i < crops.size(); ++i) {
      cv::Mat resized;
      cv::resize(crops[i], resized, out[i].face.size(), 0, 0, cv::INTER_AREA);
      error += cv::norm(resized, out[i].face, cv::NORM_L1);
    }
    if (error < best_error) {
      best_error = error;
      best = id;
    }
  }
  return best;
}

}  // namespace

void ConvertOptions::Check() const {
  if (input.empty() || output.empty() || model_dir.empty()) throw UsageError("convert needs an input, -o and -m");
  if (fs::exists(output) && fs::equivalent(input, output)) throw UsageError(output.string() + ": output would overwrite the input");
  if (preview < 0 || batch_size < 1) throw UsageError("--preview must be >= 0 and --batch >= 1");
  composite.Check();
  reader.Check();
  writer.Check();
  tracker.Check();
}

ConvertStats Convert(const ConvertOptions& o) {
  o.Check();
  core::RequireExists(o.input);
  const auto start = Clock::now();
  model::Swapper swapper(o.model_dir, o.device);
  if (swapper.info().alignment_template != face::AlignmentsFile{}.template_name) {
    throw ModelError(o.model_dir / model::kModelInfoFile,
                     "model was trained on faces aligned with '" + swapper.info().alignment_template +
                         "', which this build does not know");
  }
  int target = o.to.empty() ? -1 : swapper.IdentityIndex(o.to);
  if (target < 0 && swapper.info().identities.size() != 2) {
    throw UsageError(o.model_dir.string() + ": this model knows " + std::to_string(swapper.info().identities.size()) +
                     " identities; say which one to draw with --to");
  }

  video::Reader reader(o.input, o.reader);
  const video::MediaInfo& info = reader.info();
  const bool image_out = IsImageFile(o.output);
  if (image_out && !info.is_image_input) {
    throw UsageError(o.output.string() + ": a video input needs a video or folder output, not an image file");
  }
  std::unique_ptr<video::Writer> writer;
  if (!image_out) writer = std::make_unique<video::Writer>(o.output, info, o.writer);
  const std::set<int64_t> preview = PreviewIndices(o.preview, info.frame_count);
  if (!preview.empty()) core::EnsureDirectory(PreviewDir(o.output));

  // Blending is the only per-frame stage that runs in parallel; the other stages are
  // sequential by nature (decoding, tracking) or parallel inside (LibTorch, the encoder).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int workers = std::clamp(o.threads > 0 ? o.threads : cores, 1, 8);
  std::atomic<int64_t> first_index{-1};
  core::JobQueue<video::Frame> decoded(8);
  core::JobQueue<Item> tracked(8), swapped(16), finished(16);
  std::mutex error_mutex;
  std::exception_ptr error;
  auto fail = [&](std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = e;
    }
    for (auto* q : {&tracked, &swapped, &finished}) q->Stop();
    decoded.Stop();
  };
  StageTimer t_decode, t_track, t_model, t_blend, t_encode;
  ConvertStats stats;
  std::atomic<int64_t> faces_swapped{0}, frames_with_faces{0};
  core::StopSignals stop_signals;  // Ctrl-C: stop reading, unwind, delete the temporary output

  std::thread decode_thread([&] {
    try {
      video::Frame frame;
      while (!core::StopSignals::requested()) {
        const auto t = Clock::now();
        if (!reader.Next(frame)) break;
        t_decode.Add(t);
        if (first_index.load() < 0) first_index.store(frame.index);
        if (!decoded.Push(std::move(frame))) return;
        frame = video::Frame{};
      }
      decoded.Stop();
    } catch (...) {
      fail(std::current_exception());
    }
  });

  std::thread track_thread([&] {
    try {
      face::Tracker tracker(o.tracker, o.detector);
      face::AlignOptions align;
      align.size = swapper.resolution();
      align.coverage = swapper.info().coverage;
      while (auto frame = decoded.Pop()) {
        const auto t = Clock::now();
        Item item;
        item.frame = std::move(*frame);
        if (preview.count(item.frame.index)) item.original = item.frame.bgr.clone();
        for (const face::Face& f : tracker.Update(item.frame.bgr, item.frame.seconds)) {
          SwapJob job;
          job.face = f;
          job.aligned = face::Align(item.frame.bgr, f.points, align);
          item.faces.push_back(std::move(job));
        }
        t_track.Add(t);
        if (!tracked.Push(std::move(item))) return;
      }
      tracked.Stop();
    } catch (...) {
      fail(std::current_exception());
    }
  });

  // The model thread gathers faces over a few frames so that the network runs in batches.
  std::thread model_thread([&] {
    try {
      std::vector<Item> pending;
      size_t pending_faces = 0;
      auto run = [&] {
        std::vector<cv::Mat> crops;
        for (auto& item : pending) {
          for (auto& job : item.faces) crops.push_back(job.aligned.crop);
        }
        const auto t = Clock::now();
        if (!crops.empty()) {
          if (target < 0) {
            const int source = GuessSourceIdentity(swapper, crops);
            target = swapper.DefaultTarget(source);
            spdlog::info("faces look like identity '{}': drawing them as '{}' (choose with --to)",
                         swapper.info().identities[source], swapper.info().identities[target]);
          }
          const auto outputs = swapper.Swap(crops, target, o.batch_size);
          size_t k = 0;
          for (auto& item : pending) {
            for (auto& job : item.faces) job.swapped = outputs[k++];
          }
        }
        t_model.Add(t);
        for (auto& item : pending) {
          if (!swapped.Push(std::move(item))) return false;
        }
        pending.clear();
        pending_faces = 0;
        return true;
      };
      while (auto item = tracked.Pop()) {
        pending_faces += item->faces.size();
        pending.push_back(std::move(*item));
        if (pending_faces >= static_cast<size_t>(o.batch_size) || pending.size() >= 8) {
          if (!run()) return;
        }
      }
      if (!pending.empty() && !run()) return;
      swapped.Stop();
    } catch (...) {
      fail(std::current_exception());
    }
  });

  std::atomic<int> blend_running{workers};
  std::vector<std::thread> blend_threads;
  for (int w = 0; w < workers; ++w) {
    blend_threads.emplace_back([&] {
      try {
        while (auto item = swapped.Pop()) {
          const auto t = Clock::now();
          for (auto& job : item->faces) CompositeFace(item->frame.bgr, job.face, job.aligned, job.swapped, o.composite);
          if (!item->faces.empty()) {
            frames_with_faces++;
            faces_swapped += static_cast<int64_t>(item->faces.size());
          }
          t_blend.Add(t);
          if (!finished.Push(std::move(*item))) return;
        }
        if (--blend_running == 0) finished.Stop();
      } catch (...) {
        fail(std::current_exception());
      }
    });
  }

  // This thread writes, in frame order.
  core::Progress progress("convert", info.frame_count, "frames");
  try {
    std::map<int64_t, Item> waiting;
    int64_t next = -1;
    auto write = [&](Item& item) {
      const auto t = Clock::now();
      if (writer) {
        writer->Write(item.frame);
      } else {
        WritePng(o.output, item.frame.bgr);
      }
      if (!item.original.empty()) {
        cv::Mat pair;
        cv::hconcat(item.original, item.frame.bgr, pair);
        char name[48];
        std::snprintf(name, sizeof name, "frame_%06lld.png", static_cast<long long>(item.frame.index));
        WritePng(PreviewDir(o.output) / name, pair);
      }
      t_encode.Add(t);
      ++stats.frames;
      progress.SetStatus(std::to_string(faces_swapped.load()) + " faces");
      progress.Advance();
    };
    while (auto item = finished.Pop()) {
      if (next < 0) next = first_index.load();  // set by the decoder before any frame got here
      waiting.emplace(item->frame.index, std::move(*item));
      while (!waiting.empty() && waiting.begin()->first == next) {
        write(waiting.begin()->second);
        waiting.erase(waiting.begin());
        ++next;
      }
    }
    for (auto& [index, item] : waiting) write(item);  // gaps (should not happen) keep order
  } catch (...) {
    fail(std::current_exception());
  }

  decode_thread.join();
  track_thread.join();
  model_thread.join();
  for (auto& t : blend_threads) t.join();
  progress.Finish();
  if (error) std::rethrow_exception(error);
  if (core::StopSignals::requested()) throw Error(ExitCode::kInterrupted, o.output.string() + ": interrupted; no output written");
  if (stats.frames == 0) throw InputError(o.input, "no frames could be decoded");

  if (writer) writer->Finish();
  stats.input_broken = reader.broken();
  if (reader.broken()) spdlog::warn("{}", reader.break_message());
  stats.faces_swapped = faces_swapped.load();
  stats.frames_with_faces = frames_with_faces.load();
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stats.decode_seconds = t_decode.total();
  stats.track_seconds = t_track.total();
  stats.model_seconds = t_model.total();
  stats.blend_seconds = t_blend.total();
  stats.encode_seconds = t_encode.total();
  return stats;
}

}  // namespace faceswap::pipeline
