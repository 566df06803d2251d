#include "faceswap/core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "faceswap/core/log.h"

namespace faceswap::core {
namespace {
using Clock = std::chrono::steady_clock;

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  } else if (total >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%llds", total);
  }
  return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Advance(int64_t n) {
  done_ += n;
  const auto now = Clock::now();
  const double since = SecondsBetween(last_draw_, now);
  if ((tty_ && since >= 0.1) || (!tty_ && since >= 5.0)) {
    last_draw_ = now;
    Draw(false);
  }
}

void Progress::SetStatus(std::string status) { status_ = std::move(status); }
void Progress::SetTotal(int64_t total) { total_ = total; }

double Progress::Rate() const {
  const double elapsed = SecondsBetween(start_, Clock::now());
  return elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
}

std::string Progress::Line() const {
  std::ostringstream line;
  const double rate = Rate();
  line << label_ << " ";
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(frac * kWidth);
    line << "[" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] ";
    char pct[16];
    std::snprintf(pct, sizeof pct, "%3.0f%% ", frac * 100.0);
    line << pct << done_ << "/" << total_;
  } else {
    line << done_;
  }
  char rate_text[48];
  std::snprintf(rate_text, sizeof rate_text, " %s %.1f %s/s", "|", rate, unit_.c_str());
  line << rate_text;
  line << " | " << FormatDuration(SecondsBetween(start_, Clock::now()));
  if (total_ > 0 && rate > 0 && done_ < total_) {
    line << " ETA " << FormatDuration(static_cast<double>(total_ - done_) / rate);
  }
  if (!status_.empty()) line << " | " << status_;
  return line.str();
}

void Progress::Draw(bool final_line) {
  if (CurrentVerbosity() == Verbosity::kQuiet) return;
  const std::string text = Line();
  if (tty_) {
    std::fprintf(stderr, "\r\033[2K%s%s", text.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  Draw(true);
}

}  // namespace faceswap::core
