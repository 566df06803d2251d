#pragma once
// The compositing options convert and eval share (--mask, --mask-erode, --mask-feather,
// --color, --blend, --detail), declared once so both commands spell and default them alike.

#include <CLI/CLI.hpp>

#include <string>

#include "faceswap/pipeline/composite.h"

namespace faceswap::cli {

struct CompositeArguments {
  std::string mask = "both", color = "rct", blend = "multiband", detail = "auto";
  double mask_erode = pipeline::CompositeOptions{}.mask_erode;
  double mask_feather = pipeline::CompositeOptions{}.mask_feather;

  void AddTo(CLI::App* sub) {
    sub->add_option("--mask", mask,
                    "landmarks: the face hull from the 68 landmarks | learned: the model's mask (what covers the "
                    "face, found where the model cannot redraw it; hd also draws the face region, other presets "
                    "keep the hull) | both: their minimum")
        ->check(CLI::IsMember({"landmarks", "learned", "both"}))
        ->capture_default_str();
    sub->add_option("--mask-erode", mask_erode, "Shrink the landmark mask by this fraction of the face width")
        ->capture_default_str();
    sub->add_option("--mask-feather", mask_feather, "Feather the mask over this fraction of the face width")
        ->capture_default_str();
    sub->add_option("--color", color, "Colour matching: rct (Reinhard, Lab) | hist | none")
        ->check(CLI::IsMember({"rct", "hist", "none"}))
        ->capture_default_str();
    sub->add_option("--blend", blend, "multiband (Laplacian pyramid) | poisson | alpha")
        ->check(CLI::IsMember({"multiband", "poisson", "alpha"}))
        ->capture_default_str();
    sub->add_option("--detail", detail,
                    "auto: exemplars where the model and its training folders allow it, else none | exemplars: the "
                    "face drawn at the crop's full 256 px with detail taken from the target's own training crops, "
                    "patch by patch from the frames that look most alike (lite, original and hd models; the "
                    "training folders must still exist) | none: the drawn face enlarged as it is")
        ->check(CLI::IsMember({"auto", "exemplars", "none"}))
        ->capture_default_str();
  }

  pipeline::CompositeOptions Options() const {
    pipeline::CompositeOptions o;
    o.mask = pipeline::ParseMaskSource(mask);
    o.color = blend::ParseColorMethod(color);
    o.blend = blend::ParseBlendMethod(blend);
    o.mask_erode = mask_erode;
    o.mask_feather = mask_feather;
    return o;
  }
};

}  // namespace faceswap::cli
