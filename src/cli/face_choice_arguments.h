#pragma once
// Whose faces change and how they are found (--to, --swap-all, --only, --detector,
// --redetect-every, --landmarks, --smooth), as convert and live both take them: declared once so
// both commands spell, check and default them alike.

#include <CLI/CLI.hpp>

#include <string>

#include "faceswap/core/error.h"
#include "faceswap/pipeline/swap_options.h"

namespace faceswap::cli {

struct FaceChoiceArguments {
  std::string only;
  std::string detector = "auto";

  void AddTo(CLI::App* sub, pipeline::SwapOptions& o) {
    sub->add_option("--to", o.to, "Identity to draw the faces as (default: the other one)");
    sub->add_flag("--swap-all", o.swap_all, "Swap every face, not only those of the model's source identity");
    sub->add_option("--only", only, "ref:IMAGE: swap only the faces of the person in this photo");
    sub->add_option("--detector", detector, "Face detector: hog, cnn or auto (HOG, and the CNN where HOG finds nothing)")
        ->check(CLI::IsMember({"hog", "cnn", "auto"}))
        ->capture_default_str();
    sub->add_option("--redetect-every", o.tracker.redetect_every, "Run the full face detector every N frames")
        ->capture_default_str();
    sub->add_option("--landmarks", o.detector.landmark_model, "68-point landmark model");
    sub->add_flag("--smooth,!--no-smooth", o.tracker.smooth,
                  "Smooth the landmarks over time (One-Euro filter): a steadier face that trails a moving head "
                  "(off by default: the raw fit measured the better swap)");
  }

  // Fills what needs parsing; UsageError for a malformed --only.
  void Apply(pipeline::SwapOptions& o) const {
    if (!only.empty()) {
      if (only.rfind("ref:", 0) != 0 || only.size() == 4) {
        throw UsageError("--only expects ref:IMAGE (a photo of the person whose faces to swap), got '" + only + "'");
      }
      o.only_reference = only.substr(4);
    }
    o.detector.kind = face::ParseDetectorKind(detector);
  }
};

}  // namespace faceswap::cli
