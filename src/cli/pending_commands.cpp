// Subcommands whose work is not built yet. They parse their documented options so that
// `--help` is already accurate, then fail honestly with exit code 7.

#include <filesystem>
#include <string>
#include <vector>

#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"

namespace faceswap::cli {
namespace {
[[noreturn]] void NotYet(const std::string& name) {
  throw NotImplementedError("faceswap " + name + ": not implemented yet in this build");
}
}  // namespace

Command AddTrainCommand(CLI::App& app, const GlobalOptions&) {
  auto a = std::make_shared<std::vector<std::filesystem::path>>();
  auto b = std::make_shared<std::vector<std::filesystem::path>>();
  auto model = std::make_shared<std::filesystem::path>();
  CLI::App* sub = app.add_subcommand("train", "Teach a model the faces of two or more people");
  sub->add_option("--a", *a, "Clips, images or folders of person A");
  sub->add_option("--b", *b, "Clips, images or folders of person B");
  sub->add_option("-m,--model", *model, "Model folder (created or resumed)")->required();
  return {sub, [] { NotYet("train"); }};
}

Command AddConvertCommand(CLI::App& app, const GlobalOptions&) {
  auto input = std::make_shared<std::filesystem::path>();
  auto output = std::make_shared<std::filesystem::path>();
  auto model = std::make_shared<std::filesystem::path>();
  CLI::App* sub = app.add_subcommand("convert", "Swap the faces of a clip with a trained model (alias: swap)");
  sub->alias("swap");
  sub->add_option("input", *input, "Video, image or folder of images")->required();
  sub->add_option("-o,--output", *output, "Output video, image or folder")->required();
  sub->add_option("-m,--model", *model, "Trained model folder")->required();
  return {sub, [] { NotYet("convert"); }};
}

}  // namespace faceswap::cli
