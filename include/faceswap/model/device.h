#pragma once
// Which device runs the network, and how many CPU threads LibTorch may use.
// This header is LibTorch-free so that the CLI and pipeline can include it.

#include <string>

#include "faceswap/core/versions.h"

namespace faceswap::model {

enum class DeviceKind { kAuto, kCpu, kCuda };

DeviceKind ParseDeviceKind(const std::string& name);  // "auto" | "cpu" | "cuda"; UsageError otherwise
std::string ToString(DeviceKind kind);

struct CudaStatus {
  bool built_with_cuda = false;  // LibTorch was compiled with CUDA support
  int device_count = 0;          // GPUs LibTorch can see now
  bool usable() const { return built_with_cuda && device_count > 0; }
  std::string Describe() const;  // one line for `faceswap info`
};

CudaStatus QueryCuda();

// auto -> cuda when usable, else cpu. cuda when not usable -> DeviceError explaining why.
DeviceKind ResolveDevice(DeviceKind requested);

// Sets LibTorch's intra-op threads (its default on some VMs is 1); 0 means all cores.
// Returns the count applied.
int SetCpuThreads(int threads);

LibraryVersions Versions();

}  // namespace faceswap::model
