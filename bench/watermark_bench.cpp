// The watermark's cost and invisibility, and marked clips for the robustness table of
// scripts/bench_watermark.sh.
//
//   watermark_bench time IMAGE [REPEAT]
//       IMAGE resized to 1920x1080; one thread. Prints the median CPU ms of Embedder::Embed,
//       of cv::cvtColor BGR->YCrCb of the same frame (the reference), of Detect, and the
//       PSNR of the marked frame against the unmarked one.
//   watermark_bench mark INPUT OUTPUT [SECONDS [STRENGTH]]
//       Marks every frame of INPUT (its first SECONDS; 0: all) with the module directly and
//       encodes them with video::Writer's defaults (libx264 crf 18, like convert). Prints
//       the mean and lowest PSNR of marked against unmarked frames.

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
  faceswap::watermark::Detector detector;
  faceswap::watermark::Detection found;
  const double detect = MedianMs(std::max(3, repeat / 10), [] {}, [&] { found = detector.Detect(frame); });
  std::printf("frame 1920x1080, %d runs, one thread, median CPU time\n", repeat);
  std::printf("embed_ms %.3f\nreference_cvtColor_YCrCb_ms %.3f\nembed_over_reference %.2f\n", embed, reference,
              embed / reference);
  std::printf("detect_ms %.1f\npsnr_db %.2f\nfound %d\n", detect, psnr, found.found ? 1 : 0);
  return found.found ? 0 : 1;
}

int Mark(const std::string& input, const std::string& output, double seconds, double strength) {
  faceswap::video::ReaderOptions read;
  if (seconds > 0) read.end_seconds = seconds;
  faceswap::video::Reader reader(input, read);
  faceswap::video::Writer writer(output, reader.info());
  faceswap::watermark::EmbedOptions options;
  if (strength > 0) options.strength = strength;
  faceswap::watermark::Embedder embedder(BenchPayload(), options);
  faceswap::video::Frame frame;
  double psnr_sum = 0, psnr_min = 1e9;
  int frames = 0;
  cv::Mat original;
  while (reader.Next(frame)) {
    frame.bgr.copyTo(original);
    embedder.Embed(frame.bgr);
    const double psnr = Psnr(original, frame.bgr);
    psnr_sum += psnr;
    psnr_min = std::min(psnr_min, psnr);
    ++frames;
    writer.Write(frame);
  }
  writer.Finish();
  std::printf("%s: %d frames marked, PSNR marked vs unmarked: mean %.2f dB, lowest %.2f dB\n", output.c_str(), frames,
              psnr_sum / std::max(1, frames), psnr_min);
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
    std::fprintf(stderr, "usage: %s time IMAGE [REPEAT] | mark INPUT OUTPUT [SECONDS [STRENGTH]]\n", argv[0]);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
