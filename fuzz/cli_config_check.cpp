#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "checks.h"
#include "faceswap/cli/commands.h"

namespace fs = std::filesystem;

namespace faceswap::fuzz {

std::string CheckCliConfig(const std::string& input) {
  static const char* const kCommands[] = {"info", "extract", "train", "convert", "live", "eval"};
  if (input.empty()) return "";
  const fs::path file = fs::temp_directory_path() / ("fuzz_config_" + std::to_string(getpid()) + ".toml");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << input.substr(1);
  CLI::App app{"faceswap", "faceswap"};
  cli::GlobalOptions global;
  const std::vector<cli::Command> commands = cli::DefineCommandLine(app, global);
  const unsigned char pick = static_cast<unsigned char>(input[0]);
  std::vector<std::string> reversed_args = {kCommands[pick % std::size(kCommands)], file.string(), "--config"};
  try {
    app.parse(reversed_args);  // CLI11 takes a vector of arguments last first
  } catch (const CLI::ParseError&) {
  }
  std::error_code ignored;
  fs::remove(file, ignored);  // one scratch file per input, not one left in /tmp per run
  return "";
}

}  // namespace faceswap::fuzz
