#pragma once
// The number format the networks compute in. LibTorch-free: the CLI parses it, train and
// convert check it against the device before any work starts.
//
//   fp32  everywhere
//   bf16  autocast to bfloat16 (8-bit exponent, no loss scaling needed): on CPUs with
//         AVX512-BF16 or AMX, and on CUDA GPUs of compute capability 8.0 (Ampere) or newer
//   fp16  autocast to float16 with loss scaling: CUDA only (LibTorch's CPU autocast is
//         bfloat16-only, and CPUs have no fast float16 arithmetic)

#include <string>

#include "faceswap/model/device.h"

namespace faceswap::model {

enum class Precision { kFp32, kBf16, kFp16 };

Precision ParsePrecision(const std::string& name);  // "fp32" | "bf16" | "fp16"; UsageError otherwise
std::string ToString(Precision precision);

// The default (`--precision auto`) for a resolved device: bf16 on CPUs with native bfloat16
// (measured here: 1.8x the training steps of fp32 in 5 minutes, eval no worse), fp32
// elsewhere, CUDA included until bf16 and fp16 have been measured on a GPU.
Precision DefaultPrecision(DeviceKind device);

// Whether this CPU computes bfloat16 natively (avx512_bf16 or amx_bf16 in /proc/cpuinfo).
bool CpuHasBf16();

// DeviceError naming the problem and what to use instead when `device` (resolved: cpu or
// cuda) cannot run `precision`.
void CheckPrecision(Precision precision, DeviceKind device);

}  // namespace faceswap::model
