#pragma once
// Internal: the two kinds of output behind video::Writer.

#include <filesystem>
#include <memory>
#include <string>

#include "faceswap/video/writer.h"

namespace faceswap::video {

struct Writer::Impl {
  virtual ~Impl() = default;
  virtual void Write(const Frame& frame) = 0;
  virtual void Finish() = 0;
  virtual bool EncodesYuv420() const { return false; }

  std::filesystem::path output;
  int64_t frames_written = 0;
  int width = 0;
  int height = 0;
  std::string audio_handling;
};

namespace detail {
std::unique_ptr<Writer::Impl> MakeVideoFileWriter(const std::filesystem::path& output,
                                                  const MediaInfo& source,
                                                  const WriterOptions& options);
std::unique_ptr<Writer::Impl> MakeImageFolderWriter(const std::filesystem::path& output,
                                                    const MediaInfo& source,
                                                    const WriterOptions& options);
// Folder output when the path is an existing folder, ends in '/' or has no extension.
bool IsImageFolderOutput(const std::filesystem::path& output);
}  // namespace detail

}  // namespace faceswap::video
