#pragma once
// The c10d::TCPStore settings shared by the ranks (process_group.cpp) and --nproc's
// launcher (local_launcher.cpp).

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

namespace faceswap::train::detail {

// LibTorch 2.4 made the libuv store server the default, and a LibTorch built without libuv
// (Debian 13's 2.6) then refuses every store: "use_libuv was requested but PyTorch was
// build without libuv support". The classic server, 1.13's only one, is in every build and
// speaks the same protocol to clients, torchrun's included.
inline c10d::TCPStoreOptions TcpStoreOptions() {
  c10d::TCPStoreOptions options;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  options.useLibUV = false;
#endif
  return options;
}

}  // namespace faceswap::train::detail
