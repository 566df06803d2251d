// Decode + encode a clip with the video module (libx264 crf 18 preset medium, audio copy):
// the module's half of scripts/bench_video.sh, which times the ffmpeg program doing the same.
//
//   video_transcode INPUT OUTPUT [THREADS]   (THREADS: 0 = FFmpeg decides, like ffmpeg)

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include "faceswap/video/reader.h"
#include "faceswap/video/writer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s INPUT OUTPUT [THREADS]\n", argv[0]);
    return 2;
  }
  try {
    const int threads = argc > 3 ? std::stoi(argv[3]) : 0;
    faceswap::video::ReaderOptions read;
    read.threads = threads;
    faceswap::video::WriterOptions write;
    write.threads = threads;
    const auto start = std::chrono::steady_clock::now();
    faceswap::video::Reader reader(argv[1], read);
    faceswap::video::Writer writer(argv[2], reader.info(), write);
    faceswap::video::Frame frame;
    while (reader.Next(frame)) writer.Write(frame);
    writer.Finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%lld frames in %.2f s (%.1f fps), audio %s\n", static_cast<long long>(writer.frames_written()),
                seconds, writer.frames_written() / seconds, writer.audio_handling().c_str());
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
