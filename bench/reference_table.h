#pragma once
// Pairs each microbenchmark with its reference (a plain library call doing the same-sized
// work, measured in the same run) and writes the pairs as a Markdown table.
//
//   ReferenceTable table;
//   table.Pair("Align/256", "Reference/warpAffine_256");
//   TimingReporter reporter;                       // the console output, plus recorded times
//   benchmark::RunSpecifiedBenchmarks(&reporter);
//   table.WriteMarkdown(std::cout, reporter.seconds());

#include <benchmark/benchmark.h>

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace faceswap::bench {

// Google Benchmark's console output (table form), also keeping each benchmark's wall time
// per iteration in seconds: the median over its repetitions (--benchmark_repetitions),
// which a single slow repetition on a shared machine does not move.
class TimingReporter : public benchmark::ConsoleReporter {
 public:
  TimingReporter();  // colours only when stdout is a terminal
  void ReportRuns(const std::vector<Run>& runs) override;
  // Benchmark name -> seconds per iteration; failed benchmarks are absent.
  std::map<std::string, double> seconds() const;

 private:
  std::map<std::string, std::vector<double>> runs_;
};

class ReferenceTable {
 public:
  void Pair(const std::string& benchmark, const std::string& reference);

  // | benchmark | time per iteration | reference | reference time | ratio |, in the order
  // pairs were added. Ratio = benchmark time / reference time (above 1: slower than the
  // plain call). Benchmarks that did not run (filtered out, failed) are left out.
  void WriteMarkdown(std::ostream& out, const std::map<std::string, double>& seconds) const;

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// 1.23 ms, 456 us, 7.8 s: three significant digits in the largest unit below the value.
std::string FormatSeconds(double seconds);

}  // namespace faceswap::bench
