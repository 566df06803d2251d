#pragma once
// What each fuzz harness checks, one function per input format. Each takes one input and
// returns "" when faceswap handled it as it should, or what went wrong. Expected
// refusals (the format's faceswap::Error, CLI11's ParseError) are handled; any other
// exception escapes, and a crash or undefined behaviour is caught by the sanitizers.
// fuzz_entry.cpp runs one under libFuzzer; tests/fuzz/ runs every saved regression input
// through the same function in the ordinary test suite.

#include <string>

namespace faceswap::fuzz {

// core::ParseDuration (train --time): a finite duration >= 0 seconds, or UsageError.
std::string CheckDuration(const std::string& input);

// face::ParseAlignments (alignments.json): InputError, or a file that saves and loads
// again to the same text.
std::string CheckAlignments(const std::string& input);

// model::ParseModelInfo (model.json): ModelError, or a description that writes and reads
// again to the same text.
std::string CheckModelInfo(const std::string& input);

// The --config file (TOML/INI) against faceswap's whole command line
// (cli::DefineCommandLine). The first byte picks the subcommand on the command line, the
// rest is the file. Parses, or throws CLI::ParseError (main prints it, exit 2).
std::string CheckCliConfig(const std::string& input);

// video::Reader on the input as a media file (named .png or .jpg when it starts like one,
// else .mp4; FFmpeg probes the content either way): opens or throws InputError, and
// decodes up to 4 frames of 8-bit BGR.
std::string CheckVideoReader(const std::string& input);

}  // namespace faceswap::fuzz
