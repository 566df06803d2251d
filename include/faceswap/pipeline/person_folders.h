#pragma once
// `faceswap extract --by-identity`: one extract folder per person found in an extract
// folder, so that "person 2" can be handed to `faceswap train` as it is.
//
//   faces/person_1/alignments.json   that person's faces only (same sources and format)
//   faces/person_1/*.png             the crops (hard links to faces/*.png, or copies)
//   faces/person_1/contact.png       up to 48 of the faces, spread over the person's tracks
//   faces/people.png                 one row per person: a few faces and the face count
//
// Folders named person_N that an earlier run wrote (they hold the marker file
// .faceswap-person) are replaced; nothing else in the folder is touched.

#include <filesystem>
#include <vector>

#include "faceswap/face/alignments_file.h"
#include "faceswap/face/people.h"

namespace faceswap::pipeline {

// `file` is the folder's alignments with FaceRecord::person set (face::GroupPeople).
// Returns the person folders in person order. OutputError when a folder cannot be written.
std::vector<std::filesystem::path> WritePersonFolders(const std::filesystem::path& extract_dir,
                                                      const face::AlignmentsFile& file,
                                                      const std::vector<face::PersonSummary>& people);

}  // namespace faceswap::pipeline
