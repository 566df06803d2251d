#pragma once
// Ctrl-C (SIGINT) and SIGTERM as a request to stop cleanly: while a StopSignals object
// lives, the signals set a flag that long loops poll (training saves and exits 0, convert
// unwinds so its writer deletes the temporary output); the previous handlers come back
// when it is destroyed.

#include <csignal>

namespace faceswap::core {

class StopSignals {
 public:
  StopSignals();   // installs the handlers and clears the flag
  ~StopSignals();  // restores the previous handlers
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  static bool requested();
  static void Request();  // what the handler does; for tests and callers

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace faceswap::core
