#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "checks.h"
#include "faceswap/core/error.h"
#include "faceswap/face/alignments_file.h"

namespace fs = std::filesystem;

namespace faceswap::fuzz {
namespace {

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::string CheckAlignments(const std::string& input) {
  face::AlignmentsFile file;
  try {
    file = face::ParseAlignments(input, "alignments.json");
  } catch (const InputError&) {
    return "";
  }
  // What extract does on every resume: save what it loaded.
  const fs::path scratch = fs::temp_directory_path() / ("fuzz_alignments_" + std::to_string(getpid()) + ".json");
  face::SaveAlignments(file, scratch);
  const std::string saved = ReadText(scratch);
  try {
    face::SaveAlignments(face::ParseAlignments(saved, scratch), scratch);
  } catch (const InputError& e) {
    return std::string("a loaded file does not load again once saved: ") + e.what();  // scratch kept to look at
  }
  const bool same = ReadText(scratch) == saved;
  std::error_code ignored;
  fs::remove(scratch, ignored);
  return same ? "" : "saving a loaded file twice gives two different files";
}

}  // namespace faceswap::fuzz
