#pragma once
// --precision, as train and convert both take it: parsed once, resolved against the
// device, and refused before any work when the device cannot run it.

#include <CLI/CLI.hpp>

#include <string>

#include "faceswap/model/device.h"
#include "faceswap/model/precision.h"

namespace faceswap::cli {

struct PrecisionArgument {
  std::string name = "auto";

  void AddTo(CLI::App* sub) {
    sub->add_option("--precision", name,
                    "Number format: fp32, bf16 (CPUs with AVX512-BF16, Ampere+ GPUs), fp16 (CUDA only) or auto "
                    "(bf16 on CPUs with AVX512-BF16, else fp32)")
        ->check(CLI::IsMember({"auto", "fp32", "bf16", "fp16"}))
        ->capture_default_str();
  }

  // The precision for `device` (DeviceKind as requested); DeviceError when it cannot run.
  model::Precision Resolve(model::DeviceKind device) const {
    const model::DeviceKind resolved = model::ResolveDevice(device);
    const model::Precision precision = name == "auto" ? model::DefaultPrecision(resolved) : model::ParsePrecision(name);
    model::CheckPrecision(precision, resolved);
    return precision;
  }
};

}  // namespace faceswap::cli
