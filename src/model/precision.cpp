#include "faceswap/model/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <fstream>
#include <string>

#include "faceswap/core/error.h"
#include "faceswap/model/autocast.h"

#ifdef FACESWAP_TORCH_CUDA_BUILD
#include <ATen/cuda/CUDAContext.h>
#endif

namespace faceswap::model {

Precision ParsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp16") return Precision::kFp16;
  throw UsageError("unknown precision '" + name + "' (expected fp32, bf16 or fp16)");
}

std::string ToString(Precision precision) {
  switch (precision) {
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
  }
  return "?";
}

bool CpuHasBf16() {
  static const bool has = [] {  // read once: the CLI, train and the default all ask
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      return line.find(" avx512_bf16") != std::string::npos || line.find(" amx_bf16") != std::string::npos;
    }
    return false;
  }();
  return has;
}

Precision DefaultPrecision(DeviceKind device) {
  return device == DeviceKind::kCpu && CpuHasBf16() ? Precision::kBf16 : Precision::kFp32;
}

void CheckPrecision(Precision precision, DeviceKind device) {
  if (precision == Precision::kFp32) return;
  if (device == DeviceKind::kCpu) {
    if (precision == Precision::kFp16) {
      throw DeviceError("--precision fp16 needs a CUDA GPU; on a CPU use bf16 (CPUs with AVX512-BF16) or fp32");
    }
    if (!CpuHasBf16()) {
      throw DeviceError("--precision bf16: this CPU has no native bfloat16 (avx512_bf16 or amx_bf16), so it would "
                        "be slower than fp32; use --precision fp32");
    }
    return;
  }
#ifdef FACESWAP_TORCH_CUDA_BUILD
  if (precision == Precision::kBf16) {
    const cudaDeviceProp* props = at::cuda::getCurrentDeviceProperties();
    if (props->major < 8) {
      throw DeviceError("--precision bf16 needs a GPU of compute capability 8.0 or newer (this one: " +
                        std::to_string(props->major) + "." + std::to_string(props->minor) + "); use fp16 or fp32");
    }
  }
#endif
}

// LibTorch 2.4 replaced the per-device autocast setters with ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define FACESWAP_AUTOCAST_BY_DEVICE_TYPE 1
#endif

AutocastScope::AutocastScope(Precision precision, torch::DeviceType device) : device_(device) {
  if (precision == Precision::kFp32) return;
  const at::ScalarType dtype = precision == Precision::kBf16 ? at::kBFloat16 : at::kHalf;
  active_ = true;
#ifdef FACESWAP_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(device, dtype);
  at::autocast::set_autocast_enabled(device, true);
#else
  if (device == torch::kCPU) {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  } else {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  }
#endif
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost scope frees the cast copies of the weights it cached.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#ifdef FACESWAP_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(device_, false);
#else
  if (device_ == torch::kCPU) {
    at::autocast::set_cpu_enabled(false);
  } else {
    at::autocast::set_enabled(false);
  }
#endif
}

}  // namespace faceswap::model
