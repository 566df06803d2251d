#include "faceswap/model/device.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <thread>

#include <dlfcn.h>

#include "faceswap/core/error.h"

namespace faceswap::model {

DeviceKind ParseDeviceKind(const std::string& name) {
  if (name == "auto") return DeviceKind::kAuto;
  if (name == "cpu") return DeviceKind::kCpu;
  if (name == "cuda") return DeviceKind::kCuda;
  throw UsageError("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

std::string ToString(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kAuto: return "auto";
    case DeviceKind::kCpu: return "cpu";
    case DeviceKind::kCuda: return "cuda";
  }
  return "?";
}

CudaStatus QueryCuda() {
  CudaStatus status;
  status.device_count = static_cast<int>(torch::cuda::device_count());
#ifdef FACESWAP_TORCH_CUDA_BUILD
  status.built_with_cuda = true;
#else
  status.built_with_cuda = status.device_count > 0;
#endif
  return status;
}

std::string CudaStatus::Describe() const {
  if (!built_with_cuda) return "no (this LibTorch was built without CUDA)";
  if (device_count == 0) return "no (LibTorch has CUDA but no GPU is visible)";
  return "yes (" + std::to_string(device_count) + " GPU" + (device_count > 1 ? "s" : "") + ")";
}

DeviceKind ResolveDevice(DeviceKind requested) {
  const CudaStatus cuda = QueryCuda();
  switch (requested) {
    case DeviceKind::kAuto: return cuda.usable() ? DeviceKind::kCuda : DeviceKind::kCpu;
    case DeviceKind::kCpu: return DeviceKind::kCpu;
    case DeviceKind::kCuda:
      if (!cuda.usable()) throw DeviceError("--device cuda requested but CUDA is not usable: " + cuda.Describe());
      return DeviceKind::kCuda;
  }
  return DeviceKind::kCpu;
}

int SetCpuThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  // OpenBLAS (LibTorch's BLAS in Debian) keeps a pool of its own, one thread per core by
  // default, whose idle threads spin in sched_yield between calls: size it with LibTorch's.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
  return threads;
}

LibraryVersions Versions() { return {{"LibTorch", TORCH_VERSION}}; }

}  // namespace faceswap::model
