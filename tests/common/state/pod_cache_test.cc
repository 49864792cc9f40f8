#include "common/state/pod_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testing/builders.h"

namespace epc {
namespace {

std::vector<std::string> Keys(const PodCache& cache) {
  std::vector<std::string> out;
  for (const Pod& p : cache.List()) out.push_back(p.namespace_name + "/" + p.name + "@" + p.uid);
  return out;
}

TEST(PodCacheTest, ListsByNamespaceThenNameAndFollowsEvents) {
  PodCache cache;
  cache.Replace({testing::PodBuilder("web", "b").Uid("1").Build(),
                 testing::PodBuilder("db", "a").Uid("2").Build(),
                 testing::PodBuilder("api", "b").Uid("3").Build()});
  EXPECT_EQ(Keys(cache), (std::vector<std::string>{"a/db@2", "b/api@3", "b/web@1"}));

  // An update replaces the pod of that name, whole.
  cache.Upsert(testing::PodBuilder("web", "b").Uid("1").OnNode("n1").Build());
  ASSERT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.List().back().node_name, "n1");
  cache.Upsert(testing::PodBuilder("cache", "a").Uid("4").Build());
  EXPECT_EQ(Keys(cache), (std::vector<std::string>{"a/cache@4", "a/db@2", "b/api@3", "b/web@1"}));

  cache.Delete(testing::PodBuilder("db", "a").Uid("2").Build());
  EXPECT_EQ(Keys(cache), (std::vector<std::string>{"a/cache@4", "b/api@3", "b/web@1"}));
  // The DELETED of an earlier pod of the same name leaves the newer one.
  cache.Delete(testing::PodBuilder("web", "b").Uid("0").Build());
  EXPECT_EQ(cache.size(), 3u);

  // A relist is the whole set.
  cache.Replace({testing::PodBuilder("solo", "c").Uid("5").Build()});
  EXPECT_EQ(Keys(cache), (std::vector<std::string>{"c/solo@5"}));
}

}  // namespace
}  // namespace epc
