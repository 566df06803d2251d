#pragma once
// Runs LibTorch operations in lower precision while in scope (automatic mixed precision):
// convolutions and matrix products in bfloat16 or float16, reductions and losses kept in
// float32 by LibTorch's autocast lists. Includes LibTorch.
//
//   { model::AutocastScope amp(Precision::kBf16, torch::kCPU); out = net->Forward(x); }
//   loss = Loss(out.to(torch::kFloat32), target);   // outside the scope: float32

#include <torch/torch.h>

#include "faceswap/model/precision.h"

namespace faceswap::model {

class AutocastScope {
 public:
  AutocastScope(Precision precision, torch::DeviceType device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  torch::DeviceType device_;
};

}  // namespace faceswap::model
