#include "checks.h"
#include "faceswap/core/error.h"
#include "faceswap/model/model_info.h"

namespace faceswap::fuzz {

std::string CheckModelInfo(const std::string& input) {
  model::ModelInfo info;
  try {
    info = model::ParseModelInfo(input, "model.json");
  } catch (const ModelError&) {
    return "";
  }
  // What every save does: write the description it loaded.
  const std::string text = model::ModelInfoText(info);
  try {
    if (model::ModelInfoText(model::ParseModelInfo(text, "model.json")) != text) {
      return "writing a loaded model.json twice gives two different texts";
    }
  } catch (const ModelError& e) {
    return std::string("a loaded model.json does not load again once written: ") + e.what();
  }
  return "";
}

}  // namespace faceswap::fuzz
