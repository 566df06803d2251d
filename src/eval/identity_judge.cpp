#include "faceswap/eval/identity_judge.h"

#include <limits>

namespace faceswap::eval {

Retrieval Retrieve(const face::Descriptor& probe, int identity, int64_t group, const std::vector<JudgedFace>& real,
                   int identities) {
  Retrieval r;
  std::vector<double> sum(static_cast<size_t>(identities), 0.0);
  std::vector<int> count(static_cast<size_t>(identities), 0);
  double nearest = std::numeric_limits<double>::infinity();
  for (const JudgedFace& f : real) {
    if (f.identity == identity && f.group == group) continue;
    if (f.identity < 0 || f.identity >= identities) continue;
    const double d = face::Distance(probe, f.descriptor);
    sum[static_cast<size_t>(f.identity)] += d;
    ++count[static_cast<size_t>(f.identity)];
    if (d < nearest) {
      nearest = d;
      r.nearest_identity = f.identity;
    }
  }
  r.mean_distance.resize(static_cast<size_t>(identities));
  for (size_t i = 0; i < sum.size(); ++i) {
    r.mean_distance[i] = count[i] > 0 ? sum[i] / count[i] : std::numeric_limits<double>::quiet_NaN();
  }
  return r;
}

}  // namespace faceswap::eval
