// The watermark's cost and invisibility, and marked clips for the robustness table of
// scripts/bench_watermark.sh.
//
//   watermark_bench time IMAGE [REPEAT]
//       IMAGE resized to 1920x1080; one thread. Prints the median CPU ms of Embedder::Embed,
//       of cv::cvtColor BGR->YCrCb of the same frame (the reference), of Detect, and the
//       PSNR of the marked frame against the unmarked one.
//   watermark_bench mark INPUT OUTPUT [SECONDS [STRENGTH]]
//       Marks every frame of INPUT (its first SECONDS; 0: all) with the module directly and
//       encodes them with video::Writer's defaults (libx264 crf 18), the way convert does: the
//       mark goes into the luma of the decoded 4:2:0 picture (Embedder::EmbedInLuma), which
//       the writer encodes as it is, so that the bytes are convert's. Prints the mean and
//       lowest PSNR of marked against unmarked frames (both as BGR), over the whole frame and
//       over its flat areas only (FlatAreaPsnr).
//   watermark_bench encode INPUT OUTPUT [SECONDS]
//       The same encode without the mark: the reference for the mark's cost in bits.

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "faceswap/video/reader.h"
#include "faceswap/video/writer.h"
#include "faceswap/watermark/watermark.h"

namespace {

using faceswap::watermark::Payload;

Payload BenchPayload() { return faceswap::watermark::PayloadForThisBuild("5eed42c0ffee0000"); }

double Psnr(const cv::Mat& a, const cv::Mat& b) {
  const double mse = cv::norm(a, b, cv::NORM_L2SQR) / static_cast<double>(a.total() * a.channels());
  return mse <= 1e-12 ? 99 : 10 * std::log10(255.0 * 255.0 / mse);
}

// PSNR over the flat pixels only, where a mark is easiest to see (a plain wall, a clear
// sky): those whose unmarked grey level varies by less than kFlatStd (standard deviation
// over a kFlatWindow square around them). `share` is their part of the frame; psnr is 99
// when the frame has none.
constexpr double kFlatStd = 3.0;
constexpr int kFlatWindow = 9;
struct FlatPsnr {
  double psnr = 99, share = 0;
};
FlatPsnr FlatAreaPsnr(const cv::Mat& original, const cv::Mat& marked) {
  cv::Mat grey, mean, mean_sq, flat, diff;
  cv::cvtColor(original, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(grey, CV_32F);
  const cv::Size window(kFlatWindow, kFlatWindow);
  cv::boxFilter(grey, mean, -1, window);
  cv::boxFilter(grey.mul(grey), mean_sq, -1, window);
  cv::compare(mean_sq - mean.mul(mean), kFlatStd * kFlatStd, flat, cv::CMP_LT);
  FlatPsnr out;
  const int count = cv::countNonZero(flat);
  out.share = static_cast<double>(count) / static_cast<double>(flat.total());
  if (count == 0) return out;
  cv::absdiff(original, marked, diff);
  diff.convertTo(diff, CV_32F);
  cv::Mat squared = diff.mul(diff), not_flat;
  cv::bitwise_not(flat, not_flat);
  squared.setTo(cv::Scalar::all(0), not_flat);
  const cv::Scalar total = cv::sum(squared);
  const double mse = (total[0] + total[1] + total[2]) / (3.0 * count);
  out.psnr = mse <= 1e-12 ? 99 : 10 * std::log10(255.0 * 255.0 / mse);
  return out;
}

// This thread's CPU time in ms: on a machine shared with other work, wall time measures
// the neighbours as much as the code.
double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

// Median CPU time in ms of `body` over `repeat` runs (`prepare` runs untimed before each).
double MedianMs(int repeat, const std::function<void()>& prepare, const std::function<void()>& body) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    prepare();
    const double t = ThreadCpuMs();
    body();
    ms.push_back(ThreadCpuMs() - t);
  }
  std::nth_element(ms.begin(), ms.begin() + repeat / 2, ms.end());
  return ms[repeat / 2];
}

int Time(const std::string& image, int repeat) {
  cv::setNumThreads(1);  // embedding is single-threaded; so is the reference
  cv::Mat original = cv::imread(image, cv::IMREAD_COLOR);
  if (original.empty()) throw std::runtime_error(image + ": cannot read image");
  cv::resize(original, original, cv::Size(1920, 1080), 0, 0, cv::INTER_AREA);
  faceswap::watermark::Embedder embedder(BenchPayload());
  cv::Mat frame = original.clone(), ycrcb;
  embedder.Embed(frame);  // builds the pattern for this size once, as convert does per clip
  const double embed = MedianMs(repeat, [&] { original.copyTo(frame); }, [&] { embedder.Embed(frame); });
  const double reference = MedianMs(repeat, [] {}, [&] { cv::cvtColor(original, ycrcb, cv::COLOR_BGR2YCrCb); });
  original.copyTo(frame);
  embedder.Embed(frame);
  const double psnr = Psnr(original, frame);
  const FlatPsnr flat = FlatAreaPsnr(original, frame);
  faceswap::watermark::Detector detector;
  faceswap::watermark::Detection found;
  const double detect = MedianMs(std::max(3, repeat / 10), [] {}, [&] { found = detector.Detect(frame); });
  std::printf("frame 1920x1080, %d runs, one thread, median CPU time\n", repeat);
  std::printf("embed_ms %.3f\nreference_cvtColor_YCrCb_ms %.3f\nembed_over_reference %.2f\n", embed, reference,
              embed / reference);
  std::printf("detect_ms %.1f\npsnr_db %.2f\nflat_psnr_db %.2f\nflat_share %.3f\nfound %d\n", detect, psnr, flat.psnr,
              flat.share, found.found ? 1 : 0);
  return found.found ? 0 : 1;
}

// Encodes INPUT's frames (its first `seconds`; 0: all) as convert does, marked unless
// `strength` is negative (the unmarked reference), and prints the PSNRs of the marking.
int Mark(const std::string& input, const std::string& output, double seconds, double strength) {
  faceswap::video::ReaderOptions read;
  read.keep_yuv420 = true;  // as convert reads: the mark goes into the kept 4:2:0 picture's luma
  if (seconds > 0) read.end_seconds = seconds;
  faceswap::video::Reader reader(input, read);
  faceswap::video::Writer writer(output, reader.info());
  faceswap::watermark::EmbedOptions options;
  if (strength > 0) options.strength = strength;
  faceswap::watermark::Embedder embedder(BenchPayload(), options);
  faceswap::video::Frame frame;
  double psnr_sum = 0, psnr_min = 1e9, flat_sum = 0, flat_min = 1e9, share_sum = 0;
  int frames = 0, flat_frames = 0;
  cv::Mat original, marked;
  while (reader.Next(frame)) {
    ++frames;
    if (strength >= 0) {
      // What the encoder is given, unmarked and marked, as BGR for the PSNRs.
      if (frame.yuv420.empty()) {
        frame.bgr.copyTo(original);
        embedder.Embed(frame.bgr);
        frame.bgr.copyTo(marked);
      } else {
        cv::cvtColor(frame.yuv420, original, cv::COLOR_YUV2BGR_I420);
        cv::Mat luma = frame.yuv420.rowRange(0, frame.bgr.rows);
        embedder.EmbedInLuma(frame.bgr, luma);
        cv::cvtColor(frame.yuv420, marked, cv::COLOR_YUV2BGR_I420);
      }
      const double psnr = Psnr(original, marked);
      psnr_sum += psnr;
      psnr_min = std::min(psnr_min, psnr);
      const FlatPsnr flat = FlatAreaPsnr(original, marked);
      share_sum += flat.share;
      if (flat.share >= 0.01) {  // a frame with hardly any flat pixel says little about them
        flat_sum += flat.psnr;
        flat_min = std::min(flat_min, flat.psnr);
        ++flat_frames;
      }
    }
    writer.Write(frame);
  }
  writer.Finish();
  if (strength < 0) {
    std::printf("%s: %d frames, unmarked\n", output.c_str(), frames);
    return 0;
  }
  std::printf("%s: %d frames marked, PSNR marked vs unmarked: mean %.2f dB, lowest %.2f dB; flat areas (%.0f%% of the "
              "pixels): mean %.2f dB, lowest %.2f dB\n",
              output.c_str(), frames, psnr_sum / std::max(1, frames), psnr_min, 100 * share_sum / std::max(1, frames),
              flat_sum / std::max(1, flat_frames), flat_frames ? flat_min : 99.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "time" && argc >= 3) return Time(argv[2], argc > 3 ? std::stoi(argv[3]) : 200);
    if (mode == "mark" && argc >= 4) {
      return Mark(argv[2], argv[3], argc > 4 ? std::stod(argv[4]) : 0, argc > 5 ? std::stod(argv[5]) : 0);
    }
    if (mode == "encode" && argc >= 4) return Mark(argv[2], argv[3], argc > 4 ? std::stod(argv[4]) : 0, -1);
    std::fprintf(stderr,
                 "usage: %s time IMAGE [REPEAT] | mark INPUT OUTPUT [SECONDS [STRENGTH]] | encode INPUT OUTPUT "
                 "[SECONDS]\n",
                 argv[0]);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
