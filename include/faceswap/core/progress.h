#pragma once
// A progress bar for long work: count, rate and ETA on one line of stderr.
//
// On a terminal the line is redrawn in place at most ~10 times a second; when stderr is a
// file or pipe (CI, logs) a plain line is printed every few seconds instead, so logs stay
// readable. Quiet verbosity silences it.

#include <chrono>
#include <cstdint>
#include <string>

namespace faceswap::core {

class Progress {
 public:
  // total <= 0 means unknown: no percentage or ETA is shown.
  Progress(std::string label, int64_t total, std::string unit = "frames");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Advance by n and optionally replace the trailing status text (e.g. "loss 0.041").
  void Advance(int64_t n = 1);
  void SetStatus(std::string status);
  void SetTotal(int64_t total);
  // Prints the final line (once); called by the destructor if not called before.
  void Finish();

  int64_t done() const { return done_; }
  double Rate() const;  // units per second since construction

  // The line as it would be drawn now; exposed for tests.
  std::string Line() const;

 private:
  void Draw(bool final_line);

  std::string label_;
  std::string unit_;
  std::string status_;
  int64_t total_;
  int64_t done_ = 0;
  bool finished_ = false;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1h02m", "3m05s", "12s": compact durations for progress lines and reports.
std::string FormatDuration(double seconds);

}  // namespace faceswap::core
