#include "reference_table.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace faceswap::bench {

TimingReporter::TimingReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

void TimingReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const Run& run : runs) {
    // Aggregates (mean, stddev of repetitions) are derived from the iteration runs.
#ifdef FACESWAP_BENCHMARK_RUN_SKIPPED
    const bool failed = run.skipped != benchmark::internal::NotSkipped;
#else
    const bool failed = run.error_occurred;
#endif
    if (failed || run.run_type != Run::RT_Iteration) continue;
    runs_[run.run_name.function_name].push_back(run.GetAdjustedRealTime() /
                                                benchmark::GetTimeUnitMultiplier(run.time_unit));
  }
}

std::map<std::string, double> TimingReporter::seconds() const {
  std::map<std::string, double> out;
  for (auto [name, times] : runs_) {
    std::sort(times.begin(), times.end());
    const size_t middle = times.size() / 2;
    out[name] = times.size() % 2 ? times[middle] : 0.5 * (times[middle - 1] + times[middle]);
  }
  return out;
}

void ReferenceTable::Pair(const std::string& benchmark, const std::string& reference) {
  pairs_.emplace_back(benchmark, reference);
}

void ReferenceTable::WriteMarkdown(std::ostream& out, const std::map<std::string, double>& seconds) const {
  out << "| benchmark | time per iteration | reference | reference time | ratio |\n";
  out << "| --- | --- | --- | --- | --- |\n";
  for (const auto& [name, reference] : pairs_) {
    const auto measured = seconds.find(name);
    const auto plain = seconds.find(reference);
    if (measured == seconds.end() || plain == seconds.end()) continue;
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.2f", measured->second / plain->second);
    out << "| " << name << " | " << FormatSeconds(measured->second) << " | " << reference << " | "
        << FormatSeconds(plain->second) << " | " << ratio << " |\n";
  }
}

std::string FormatSeconds(double seconds) {
  const char* unit = "s";
  double value = seconds;
  if (seconds < 1e-6) {
    unit = "ns";
    value = seconds * 1e9;
  } else if (seconds < 1e-3) {
    unit = "us";
    value = seconds * 1e6;
  } else if (seconds < 1.0) {
    unit = "ms";
    value = seconds * 1e3;
  }
  char text[32];
  std::snprintf(text, sizeof text, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s", value, unit);
  return text;
}

}  // namespace faceswap::bench
