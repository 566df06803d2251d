#pragma once
// The people in an alignments file: each track's sampled descriptors (extract describes a
// few faces of every track) are clustered with face::ClusterPeople, and every face gets
// its track's person. Person 0 has the most faces.

#include <cstdint>
#include <string>
#include <vector>

#include "faceswap/face/alignments_file.h"

namespace faceswap::face {

struct PersonSummary {
  int person = 0;
  int64_t faces = 0;    // faces of the person's tracks, all of them (not only the described)
  int64_t tracks = 0;
  std::vector<std::string> sources;  // file names the person appears in
};

// Sets FaceRecord::person on every face (-1 for tracks without a descriptor) and returns
// one summary per person, person 0 first.
std::vector<PersonSummary> GroupPeople(AlignmentsFile& file, double threshold = kSamePersonGroupDistance);

}  // namespace faceswap::face
