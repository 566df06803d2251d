#include "faceswap/pipeline/convert.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <pthread.h>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/folder_lock.h"
#include "faceswap/core/job_queue.h"
#include "faceswap/core/progress.h"
#include "faceswap/core/stop_signal.h"
#include "faceswap/face/align.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/face/identity.h"
#include "faceswap/face/track_identity.h"
#include "faceswap/pipeline/composite.h"
#include "faceswap/pipeline/thread_budget.h"
#include "faceswap/model/device.h"
#include "faceswap/model/swapper.h"
#include "faceswap/video/yuv420.h"

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

// Names the stage threads so that `top -H`, perf and gdb show which stage is which.
void NameThisThread(const char* name) {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), name);
#else
  (void)name;
#endif
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

// Whose faces the track stage hands on to the model, and as whom they are drawn.
class FaceFilter {
 public:
  FaceFilter(const ConvertOptions& o, model::Swapper& swapper, int target) : target_(target) {
    const model::ModelInfo& info = swapper.info();
    if (o.swap_all) {
      description_ = "every face (--swap-all)";
      return;
    }
    std::vector<face::Descriptor> people;
    if (o.only_reference) {
      face::Detector detector(o.detector);
      const cv::Mat image = cv::imread(o.only_reference->string(), cv::IMREAD_COLOR);
      if (image.empty()) throw InputError(*o.only_reference, "reference photo cannot be read");
      const std::vector<face::Face> faces = detector.Detect(image);
      if (faces.empty()) throw InputError(*o.only_reference, "no face found in the reference photo");
      if (faces.size() > 1) spdlog::warn("{}: {} faces; using the largest", o.only_reference->string(), faces.size());
      encoder_.emplace();
      reference_ = encoder_->Encode(image, faces.front().points);
      people.push_back(*reference_);
      description_ = "only the person in " + o.only_reference->filename().string();
    } else {
      for (const auto& mean : info.IdentityMeans()) {
        face::Descriptor d{};
        std::copy(mean.begin(), mean.end(), d.begin());
        people.push_back(d);
      }
      if (people.empty()) {
        spdlog::warn("{}: the model records no identity descriptors (trained without the face-recognition network "
                     "or by an older faceswap): swapping every face; retrain, or choose with --only ref:IMAGE",
                     (o.model_dir / model::kModelInfoFile).string());
        description_ = "every face (the model has no identity descriptors)";
        return;
      }
      encoder_.emplace();
      description_ = "only faces of the model's source identity";
    }
    // The reference photo's person may be one of the model's identities: then it also
    // tells the direction (for models that record descriptors).
    if (reference_ && target_ < 0) {
      std::vector<face::Descriptor> means;
      for (const auto& mean : info.IdentityMeans()) {
        face::Descriptor d{};
        std::copy(mean.begin(), mean.end(), d.begin());
        means.push_back(d);
      }
      const int source = face::MatchPerson(*reference_, means);
      if (source >= 0) target_ = swapper.DefaultTarget(source);
    }
    who_.emplace(*encoder_, std::move(people));
  }

  // Whether to swap this face; decides the direction on the first face that tells it.
  bool Swap(const cv::Mat& frame, int64_t frame_index, const face::Face& face, model::Swapper& swapper) {
    if (!who_) return true;
    const int person = who_->Identify(frame, frame_index, face);
    if (reference_) return person == 0;
    if (person < 0) return false;
    if (target_ < 0) {
      target_ = swapper.DefaultTarget(person);
      spdlog::info("faces of identity '{}' found: drawing them as '{}' (choose with --to)",
                   swapper.info().identities[person], swapper.info().identities[target_]);
    }
    return person != target_;
  }

  // Whether the decision for this face's track will not change any more (then a face left
  // alone can be parked by the tracker).
  bool Settled(const face::Face& face) const { return who_ && face.track_id >= 0 && who_->Settled(face.track_id); }

  int target() const { return target_; }  // -1: not known yet
  const std::string& description() const { return description_; }

 private:
  int target_;
  std::string description_;
  std::optional<face::IdentityEncoder> encoder_;
  std::optional<face::Descriptor> reference_;
  std::optional<face::TrackIdentities> who_;
};

}  // namespace

void ConvertOptions::Check() const {
  if (input.empty() || output.empty() || model_dir.empty()) throw UsageError("convert needs an input, -o and -m");
  if (fs::exists(output) && fs::equivalent(input, output)) throw UsageError(output.string() + ": output would overwrite the input");
  if (preview < 0 || batch_size < 1) throw UsageError("--preview must be >= 0 and --batch >= 1");
  if (swap_all && only_reference) throw UsageError("--swap-all and --only exclude each other");
  if (tracker.selection != face::FaceSelection::kAll) throw UsageError("convert tracks every face; choose whose with --only");
  composite.Check();
  watermark.Check();
  reader.Check();
  writer.Check();
  tracker.Check();
}

ConvertStats Convert(const ConvertOptions& o) {
  o.Check();
  core::RequireExists(o.input);
  // One convert per output (a second one stops here, exit 4); then what killed runs left.
  const core::OutputLock output_lock(o.output, "faceswap convert");
  core::RemoveStaleTemporariesOf(o.output);
  const auto start = Clock::now();
  const ThreadBudget budget = ConvertThreadBudget(o.threads);
  cv::setNumThreads(budget.opencv);
  model::SetCpuThreads(budget.network);
  // The face detector and landmark model take a second or more to load: in parallel with
  // the network and the face-recognition network below.
  std::future<face::Tracker> tracker_loaded =
      std::async(std::launch::async, [&] { return face::Tracker(o.tracker, o.detector); });

  model::Swapper swapper(o.model_dir, o.device, o.precision);
  if (swapper.info().alignment_template != face::AlignmentsFile{}.template_name) {
    throw ModelError(o.model_dir / model::kModelInfoFile,
                     "model was trained on faces aligned with '" + swapper.info().alignment_template +
                         "', which this build does not know");
  }
  const int chosen_target = o.to.empty() ? -1 : swapper.IdentityIndex(o.to);
  if (chosen_target < 0 && swapper.info().identities.size() != 2) {
    throw UsageError(o.model_dir.string() + ": this model knows " + std::to_string(swapper.info().identities.size()) +
                     " identities; say which one to draw with --to");
  }
  FaceFilter filter(o, swapper, chosen_target);
  std::atomic<int> target{filter.target()};
  const watermark::Payload mark = watermark::PayloadForThisBuild(swapper.info().weights_hash);

  video::ReaderOptions reader_options = o.reader;
  if (reader_options.threads == 0) reader_options.threads = budget.decoder;
  // A video output is encoded from the decoded 4:2:0 pictures with only the faces' regions
  // converted back from BGR (Frame::yuv420): the same pixels elsewhere, and less to encode.
  reader_options.keep_yuv420 = !IsImageFile(o.output);
  video::Reader reader(o.input, reader_options);
  const video::MediaInfo& info = reader.info();
  const bool image_out = IsImageFile(o.output);
  if (image_out && !info.is_image_input) {
    throw UsageError(o.output.string() + ": a video input needs a video or folder output, not an image file");
  }
  std::unique_ptr<video::Writer> writer;
  if (!image_out) writer = std::make_unique<video::Writer>(o.output, info, o.writer);
  const bool encode_yuv420 = writer && writer->encodes_yuv420();
  const std::set<int64_t> preview = PreviewIndices(o.preview, info.frame_count);
  if (!preview.empty()) core::EnsureDirectory(PreviewDir(o.output));

  // Decoding, tracking, the network and encoding are sequential by nature and run on a
  // thread each; blending, the one per-frame stage that can, runs on a few workers.
  const int workers = budget.blend_workers;
  std::atomic<int64_t> first_index{-1};
  // Tracking costs little on most frames and a lot on a few (searching with the CNN after
  // a face is lost: ~0.8 s a pass). A lead of tracked frames keeps the network, blending and
  // the encoder busy meanwhile instead of waiting on the tracker (person_b's ad: about a
  // core idle for 3 s with a lead of 8): as many frames as fit in kLeadBytes.
  constexpr double kLeadBytes = 256.0 * 1024 * 1024;
  const double frame_bytes = (encode_yuv420 ? 4.5 : 3.0) * std::max(1, info.width) * std::max(1, info.height);
  const size_t lead = static_cast<size_t>(std::clamp(kLeadBytes / frame_bytes, 8.0, 128.0));
  core::JobQueue<video::Frame> decoded(8);
  core::JobQueue<Item> tracked(lead), swapped(16), finished(16);
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
  int64_t faces_left = 0;        // track thread only
  std::set<int> tracks_left;     // track thread only
  core::StopSignals stop_signals;  // Ctrl-C: stop reading, unwind, delete the temporary output

  std::thread decode_thread([&] {
    NameThisThread("fs-decode");
    try {
      video::Frame frame;
      while (!core::StopSignals::requested()) {
        const auto t = Clock::now();
        if (!reader.Next(frame)) break;
        if (!encode_yuv420) frame.yuv420.release();
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
    NameThisThread("fs-track");
    try {
      face::Tracker tracker = tracker_loaded.get();
      face::AlignOptions align;
      align.size = swapper.resolution();
      align.coverage = swapper.info().coverage;
      while (auto frame = decoded.Pop()) {
        const auto t = Clock::now();
        Item item;
        item.frame = std::move(*frame);
        if (preview.count(item.frame.index)) item.original = item.frame.bgr.clone();
        for (const face::Face& f : tracker.Update(item.frame.bgr, item.frame.seconds)) {
          if (!filter.Swap(item.frame.bgr, item.frame.index, f, swapper)) {
            ++faces_left;
            tracks_left.insert(f.track_id);
            // Somebody else for good: no more landmark fits for this face.
            if (filter.Settled(f)) tracker.Park(f.track_id);
            continue;
          }
          if (target.load() < 0) target.store(filter.target());
          SwapJob job;
          job.face = f;
          job.aligned = face::Align(item.frame.bgr, f.points, align);
          item.faces.push_back(std::move(job));
        }
        // Parked faces are still there (until redetections miss them): still left alone.
        faces_left += tracker.parked_tracks();
        t_track.Add(t);
        if (!tracked.Push(std::move(item))) return;
      }
      const face::Tracker::Stats& ts = tracker.stats();
      spdlog::debug("tracker: {} refits ({} second fits skipped), {} detections, {} CNN passes, {} tracks lost, {} parked",
                    ts.refits, ts.refits_skipped, ts.detections, ts.cnn_runs, ts.lost, ts.parked);
      tracked.Stop();
    } catch (...) {
      fail(std::current_exception());
    }
  });

  // The model thread gathers faces over a few frames so that the network runs in batches.
  std::thread model_thread([&] {
    NameThisThread("fs-network");
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
          if (target.load() < 0) {  // no descriptors to tell: the decoder that redraws them best
            const int source = GuessSourceIdentity(swapper, crops);
            target.store(swapper.DefaultTarget(source));
            spdlog::info("faces look like identity '{}': drawing them as '{}' (choose with --to)",
                         swapper.info().identities[source], swapper.info().identities[target.load()]);
          }
          const auto outputs = swapper.Swap(crops, target.load(), o.batch_size);
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
        // A batch of --batch faces, or as many frames (one face each is the usual clip):
        // the lite network costs 23 ms for one face and 7.4 ms a face for 16 (micro_bench).
        if (pending_faces >= static_cast<size_t>(o.batch_size) || pending.size() >= static_cast<size_t>(o.batch_size)) {
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
    NameThisThread("fs-blend");
      try {
        FaceCompositor compositor(o.composite);  // this worker's buffers
        watermark::Embedder marker(mark, o.watermark);  // one per worker: it keeps the pattern
        video::Yuv420Converter to_yuv(info.color_space);
        std::vector<cv::Rect> regions;
        while (auto item = swapped.Pop()) {
          const auto t = Clock::now();
          video::Frame& frame = item->frame;
          regions.clear();
          for (auto& job : item->faces) {
            regions.push_back(compositor.Composite(frame.bgr, job.face, job.aligned, job.swapped).roi);
          }
          const bool mark_it = o.watermark.enabled && !item->faces.empty();
          if (!frame.yuv420.empty()) {
            for (const cv::Rect& r : regions) to_yuv.Convert(frame.bgr, r, frame.yuv420);
            if (mark_it) {
              cv::Mat luma = frame.yuv420.rowRange(0, frame.bgr.rows);
              marker.EmbedInLuma(frame.bgr, luma);
            }
            if (mark_it && !item->original.empty()) marker.Embed(frame.bgr);  // the preview shows it too
          } else if (mark_it) {
            marker.Embed(frame.bgr);
          }
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
  stats.faces_left = faces_left;
  stats.tracks_left = static_cast<int64_t>(tracks_left.size());
  stats.filter = filter.description();
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
