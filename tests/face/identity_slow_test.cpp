// The face-recognition network on the shared clips and photos: one person's faces stay
// together, other people's stay apart.

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "faceswap/face/identity.h"
#include "faceswap/face/tracker.h"
#include "faceswap/video/reader.h"
#include "network_files.h"
#include "test_support.h"

namespace faceswap::test {
namespace {

// The sampled faces of one track (or one photo's face), all of one person.
struct Group {
  std::string who;  // the clip or photo it came from
  std::vector<face::Descriptor> faces;
};

// Tracks every 2nd frame before `end_seconds` and describes every 5th face of each track.
// Tracks starting in [other_from, other_to) seconds are labelled `other` (a scene of
// someone else).
void DescribeClip(const std::string& who, const std::filesystem::path& clip, double end_seconds,
                  double other_from, double other_to, const std::string& other,
                  face::IdentityEncoder& encoder, std::vector<Group>& out) {
  video::ReaderOptions options;
  options.end_seconds = end_seconds;
  video::Reader reader(clip, options);
  face::Tracker tracker(face::TrackerOptions{}, face::DetectorOptions{});
  std::map<int, Group> tracks;
  std::map<int, int> seen;
  video::Frame frame;
  while (reader.Next(frame)) {
    if (frame.index % 2 != 0) continue;
    for (const face::Face& f : tracker.Update(frame.bgr, frame.seconds)) {
      if (seen[f.track_id]++ % 5 != 0) continue;
      if (tracks[f.track_id].faces.empty()) {
        tracks[f.track_id].who = frame.seconds >= other_from && frame.seconds < other_to ? other : who;
      }
      tracks[f.track_id].faces.push_back(encoder.Encode(frame.bgr, f.points));
    }
  }
  for (auto& [id, group] : tracks) out.push_back(std::move(group));
}

class IdentityOnSamples : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    const auto a = SampleFile("clips/person_a.mp4", &why);
    const auto b = SampleFile("clips/person_b.mp4", &why);
    const auto two = SampleFile("images/two_people.jpg", &why);
    if (!a || !b || !two || !face::CheckModelFile(face::ModelFile::kFaceRecognition).problem.empty()) return;
    face::IdentityEncoder encoder;
    groups_ = new std::vector<Group>;
    // person_a ends on a split screen of other people (from 18.5 s): left out here.
    // person_b shows a game advertisement from 19.0 to 20.17 s (ffmpeg's scene cuts) with a
    // drawn woman's face in its top-left corner: another "person".
    DescribeClip("a", *a, 18.0, 0, 0, "", encoder, *groups_);
    DescribeClip("b", *b, 1e9, 19.0, 20.17, "game", encoder, *groups_);
    const cv::Mat photo = cv::imread(two->string());
    face::Detector detector(face::DetectorOptions{});
    std::vector<face::Face> people = detector.Detect(photo);
    std::sort(people.begin(), people.end(), [](const face::Face& x, const face::Face& y) { return x.box.x < y.box.x; });
    for (size_t i = 0; i < people.size(); ++i) {
      groups_->push_back({"photo" + std::to_string(i), {encoder.Encode(photo, people[i].points)}});
    }
  }
  static void TearDownTestSuite() {
    delete groups_;
    groups_ = nullptr;
  }
  void SetUp() override {
    FACESWAP_REQUIRE_SAMPLE(a, "clips/person_a.mp4");
    FACESWAP_REQUIRE_SAMPLE(b, "clips/person_b.mp4");
    FACESWAP_REQUIRE_SAMPLE(two, "images/two_people.jpg");
    FACESWAP_REQUIRE_NETWORK(face::ModelFile::kFaceRecognition);
    ASSERT_NE(groups_, nullptr);
  }
  static std::vector<face::Descriptor> FacesOf(const std::string& who) {
    std::vector<face::Descriptor> out;
    for (const Group& g : *groups_) {
      if (g.who == who) out.insert(out.end(), g.faces.begin(), g.faces.end());
    }
    return out;
  }
  static std::vector<Group>* groups_;
};
std::vector<Group>* IdentityOnSamples::groups_ = nullptr;

// One test, so that the clips are tracked and described once (each test runs in its own
// process under ctest).
//
// (1) The mean descriptor of every other of person_a's faces (what train records) is
// nearer each of her remaining faces than the mean of person_b's faces is, and the other
// way round: the rule convert uses to tell whose face it sees.
// (2) The two photographed men, person_a, person_b and the game's drawn face are five
// people, none mixed, when the tracks are clustered.
TEST_F(IdentityOnSamples, MeansTellThePeopleApartAndClusteringFindsFive) {
  const std::vector<face::Descriptor> a = FacesOf("a"), b = FacesOf("b");
  ASSERT_GE(a.size(), 30u);
  ASSERT_GE(b.size(), 30u);
  auto split = [](const std::vector<face::Descriptor>& all, std::vector<face::Descriptor>& train,
                  std::vector<face::Descriptor>& test) {
    for (size_t i = 0; i < all.size(); ++i) (i % 2 ? test : train).push_back(all[i]);
  };
  std::vector<face::Descriptor> a_train, a_test, b_train, b_test;
  split(a, a_train, a_test);
  split(b, b_train, b_test);
  const face::Descriptor mean_a = face::MeanDescriptor(a_train), mean_b = face::MeanDescriptor(b_train);
  for (size_t i = 0; i < a_test.size(); ++i) {
    EXPECT_LT(face::Distance(a_test[i], mean_a), face::Distance(a_test[i], mean_b)) << "a face " << i;
  }
  for (size_t i = 0; i < b_test.size(); ++i) {
    EXPECT_LT(face::Distance(b_test[i], mean_b), face::Distance(b_test[i], mean_a)) << "b face " << i;
  }
  // MatchPerson, as convert uses it: each face is its own person, strangers nobody.
  for (const face::Descriptor& d : a_test) EXPECT_EQ(face::MatchPerson(d, {mean_a, mean_b}), 0);
  for (const face::Descriptor& d : b_test) EXPECT_EQ(face::MatchPerson(d, {mean_a, mean_b}), 1);
  for (const std::string who : {"photo0", "photo1", "game"}) {
    for (const face::Descriptor& d : FacesOf(who)) {
      double distance = 0;
      EXPECT_EQ(face::MatchPerson(d, {mean_a, mean_b}, &distance), -1) << who << " at " << distance;
    }
  }

  std::vector<std::vector<face::Descriptor>> groups;
  for (const Group& g : *groups_) groups.push_back(g.faces);
  const std::vector<int> people = face::ClusterPeople(groups);
  std::map<std::string, std::set<int>> people_of;
  std::map<int, std::set<std::string>> sources_of;
  for (size_t i = 0; i < people.size(); ++i) {
    people_of[(*groups_)[i].who].insert(people[i]);
    sources_of[people[i]].insert((*groups_)[i].who);
  }
  EXPECT_EQ(sources_of.size(), 5u);
  EXPECT_EQ(people_of.count("game"), 1u) << "the game's face was found";
  for (const auto& [who, ids] : people_of) EXPECT_EQ(ids.size(), 1u) << who << " split over people";
  for (const auto& [id, sources] : sources_of) EXPECT_EQ(sources.size(), 1u) << "person " << id << " mixes sources";
  EXPECT_EQ(people_of.count("photo0") + people_of.count("photo1"), 2u) << "both photographed faces found";
}

}  // namespace
}  // namespace faceswap::test
