#pragma once
// The `faceswap` command line: global options and one registration function per
// subcommand. Each subcommand lives in its own file under src/cli/ and fills its module's
// Options struct from CLI11, so no central place knows every module's options.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace faceswap::cli {

struct GlobalOptions {
  bool verbose = false;
  bool quiet = false;
  std::optional<std::filesystem::path> log_file;
  std::string device = "auto";  // auto | cpu | cuda
  int threads = 0;              // 0: all cores
};

// A registered subcommand: its CLI11 app and the work to run once parsing succeeded.
struct Command {
  CLI::App* app = nullptr;
  std::function<void()> run;
};

void AddGlobalOptions(CLI::App& app, GlobalOptions& options);

Command AddInfoCommand(CLI::App& app, const GlobalOptions& global);
Command AddExtractCommand(CLI::App& app, const GlobalOptions& global);
Command AddTrainCommand(CLI::App& app, const GlobalOptions& global);
Command AddConvertCommand(CLI::App& app, const GlobalOptions& global);
Command AddLiveCommand(CLI::App& app, const GlobalOptions& global);
Command AddEvalCommand(CLI::App& app, const GlobalOptions& global);
Command AddVerifyCommand(CLI::App& app, const GlobalOptions& global);

// Registers the global options and every subcommand on `app` (what Main parses argv with).
std::vector<Command> DefineCommandLine(CLI::App& app, GlobalOptions& global);

// Builds the whole app, parses argv, runs the chosen subcommand and returns the process
// exit code. Every faceswap::Error is caught here and printed as one line.
int Main(int argc, char** argv);

}  // namespace faceswap::cli
