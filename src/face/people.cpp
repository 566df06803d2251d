#include "faceswap/face/people.h"

#include <algorithm>
#include <map>
#include <utility>

namespace faceswap::face {

std::vector<PersonSummary> GroupPeople(AlignmentsFile& file, double threshold) {
  // One group per (source, track) that has descriptors.
  std::map<std::pair<size_t, int>, size_t> group_of;
  std::vector<std::vector<Descriptor>> groups;
  for (size_t s = 0; s < file.sources.size(); ++s) {
    for (const FaceRecord& f : file.sources[s].faces) {
      if (!f.descriptor) continue;
      auto [it, added] = group_of.try_emplace({s, f.track_id}, groups.size());
      if (added) groups.emplace_back();
      groups[it->second].push_back(*f.descriptor);
    }
  }
  std::vector<int> person_of_group = ClusterPeople(groups, threshold);
  int people = 0;
  for (int p : person_of_group) people = std::max(people, p + 1);

  // ClusterPeople orders people by described faces; order them by all their faces.
  std::vector<int64_t> faces_of(static_cast<size_t>(people), 0);
  for (size_t s = 0; s < file.sources.size(); ++s) {
    for (const FaceRecord& f : file.sources[s].faces) {
      const auto it = group_of.find({s, f.track_id});
      if (it != group_of.end()) ++faces_of[static_cast<size_t>(person_of_group[it->second])];
    }
  }
  std::vector<int> order(static_cast<size_t>(people));
  for (int p = 0; p < people; ++p) order[static_cast<size_t>(p)] = p;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return faces_of[a] > faces_of[b]; });
  std::vector<int> rank(static_cast<size_t>(people));
  for (int r = 0; r < people; ++r) rank[static_cast<size_t>(order[static_cast<size_t>(r)])] = r;
  for (int& p : person_of_group) p = rank[static_cast<size_t>(p)];

  std::vector<PersonSummary> summary(static_cast<size_t>(people));
  for (int p = 0; p < people; ++p) summary[static_cast<size_t>(p)].person = p;
  std::map<std::pair<size_t, int>, bool> counted;
  for (size_t s = 0; s < file.sources.size(); ++s) {
    for (FaceRecord& f : file.sources[s].faces) {
      const auto it = group_of.find({s, f.track_id});
      f.person = it == group_of.end() ? -1 : person_of_group[it->second];
      if (f.person < 0) continue;
      PersonSummary& p = summary[static_cast<size_t>(f.person)];
      ++p.faces;
      if (!counted[{s, f.track_id}]) {
        counted[{s, f.track_id}] = true;
        ++p.tracks;
        const std::string name = file.sources[s].path.filename().string();
        if (std::find(p.sources.begin(), p.sources.end(), name) == p.sources.end()) p.sources.push_back(name);
      }
    }
  }
  return summary;
}

}  // namespace faceswap::face
