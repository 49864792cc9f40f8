#include "common/model/pod_request.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace epc {
namespace {

constexpr int64_t kMiB = 1048576;
constexpr const char* kAzure = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
constexpr const char* kIntel = "sgx.intel.com/epc";

ResourceQuantities List(std::initializer_list<std::pair<std::string, std::string>> items) {
  ResourceQuantities list;
  for (const auto& [name, text] : items) {
    Result<Quantity> q = Quantity::Parse(text);
    EXPECT_TRUE(q.ok()) << text;
    if (q.ok()) list[name] = *q;
  }
  return list;
}

Container Requests(std::initializer_list<std::pair<std::string, std::string>> items) {
  Container c;
  c.requests = List(items);
  return c;
}

Container Limits(std::initializer_list<std::pair<std::string, std::string>> items) {
  Container c;
  c.limits = List(items);
  return c;
}

Container Sidecar(Container c) {
  c.restartable_init = true;
  return c;
}

Container Cpu(const std::string& amount) { return Requests({{"cpu", amount}}); }

int64_t MilliCpu(const Pod& pod) { return PodRequests(pod, EpcResources()).milli_cpu; }

TEST(PodRequestsTest, EmptyPodCountsOnePod) {
  Resources r = PodRequests(Pod(), EpcResources());
  Resources want;
  want.pods = 1;
  EXPECT_EQ(r, want);
}

TEST(PodRequestsTest, SumsAppContainers) {
  Pod pod;
  pod.containers = {Requests({{"cpu", "1"}, {"memory", "5"}}),
                    Requests({{"cpu", "4"}, {"memory", "12"}})};
  pod.containers[0].limits = List({{"cpu", "2"}, {"memory", "10"}});
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.milli_cpu, 5000);
  EXPECT_EQ(r.memory, 17);
  EXPECT_EQ(r.pods, 1);
}

TEST(PodRequestsTest, LargerInitContainerWins) {
  Pod pod;
  pod.init_containers = {Cpu("4")};
  pod.containers = {Cpu("1")};
  EXPECT_EQ(MilliCpu(pod), 4000);
}

TEST(PodRequestsTest, LargerAppContainersWin) {
  Pod pod;
  pod.init_containers = {Cpu("2")};
  pod.containers = {Cpu("2"), Cpu("3")};
  EXPECT_EQ(MilliCpu(pod), 5000);
}

TEST(PodRequestsTest, InitContainersArePerResourceMaximum) {
  Pod pod;
  pod.init_containers = {Requests({{"cpu", "1"}, {"memory", "5"}}),
                         Requests({{"cpu", "40"}, {"memory", "120"}}),
                         Requests({{"cpu", "2"}, {"memory", "500"}})};
  pod.containers = {Requests({{"cpu", "1"}, {"memory", "5"}}),
                    Requests({{"cpu", "4"}, {"memory", "12"}})};
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.milli_cpu, 40000);
  EXPECT_EQ(r.memory, 500);
}

TEST(PodRequestsTest, OverheadIsAdded) {
  Pod pod;
  pod.overhead = List({{"cpu", "1"}, {"memory", "1Gi"}});
  pod.init_containers = {Cpu("2")};
  pod.containers = {Cpu("2"), Cpu("3")};
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.milli_cpu, 6000);
  EXPECT_EQ(r.memory, 1073741824);
}

TEST(PodRequestsTest, OverheadIsAddedAfterTheInitMaximum) {
  Pod pod;
  pod.overhead = List({{"cpu", "5"}, {"memory", "5"}});
  pod.init_containers = {Requests({{"cpu", "40"}, {"memory", "120"}})};
  pod.containers = {Requests({{"cpu", "1"}, {"memory", "10"}})};
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.milli_cpu, 45000);
  EXPECT_EQ(r.memory, 125);
}

TEST(PodRequestsTest, SidecarRunsNextToAppContainers) {
  Pod pod;
  pod.init_containers = {Sidecar(Cpu("1"))};
  pod.containers = {Cpu("1")};
  EXPECT_EQ(MilliCpu(pod), 2000);
}

TEST(PodRequestsTest, SidecarsAfterARegularInitContainer) {
  // max(5, sidecars (1+2+3) + app (1)) = 7
  Pod pod;
  pod.init_containers = {Cpu("5"), Sidecar(Cpu("1")), Sidecar(Cpu("2")), Sidecar(Cpu("3"))};
  pod.containers = {Cpu("1")};
  EXPECT_EQ(MilliCpu(pod), 7000);
}

TEST(PodRequestsTest, RegularInitContainerRunsNextToEarlierSidecarsOnly) {
  // init-2 needs 5 + the sidecars started before it (1+2) = 8; the sidecar after it does not
  // count there, and sidecars (6) + app (1) = 7 is less.
  Pod pod;
  pod.init_containers = {Cpu("5"), Sidecar(Cpu("1")), Sidecar(Cpu("2")), Cpu("5"),
                         Sidecar(Cpu("3"))};
  pod.containers = {Cpu("1")};
  EXPECT_EQ(MilliCpu(pod), 8000);
}

TEST(PodRequestsTest, SidecarBeforeABigInitContainer) {
  // init-1 runs next to the sidecar: 200 + 10 = 210 > sidecar + app = 110.
  Pod pod;
  pod.init_containers = {Sidecar(Cpu("10")), Cpu("200")};
  pod.containers = {Cpu("100")};
  EXPECT_EQ(MilliCpu(pod), 210000);
}

TEST(PodRequestsTest, SidecarsWithOverheadAndSeveralResources) {
  Pod pod;
  pod.init_containers = {Sidecar(Requests({{"cpu", "500m"}, {"memory", "100Mi"}})),
                         Requests({{"cpu", "2"}, {"memory", "10Mi"}}),
                         Sidecar(Requests({{"memory", "50Mi"}}))};
  pod.containers = {Requests({{"cpu", "1"}, {"memory", "200Mi"}})};
  pod.overhead = List({{"cpu", "100m"}, {"memory", "1Mi"}});
  Resources r = PodRequests(pod, EpcResources());
  // cpu: max(app 1 + sidecar 0.5 = 1.5, init 2 + 0.5 = 2.5) + 0.1 = 2.6
  EXPECT_EQ(r.milli_cpu, 2600);
  // memory: max(app 200 + sidecars 150 = 350, init 10 + 100 = 110) + 1 = 351 MiB
  EXPECT_EQ(r.memory, 351 * kMiB);
}

TEST(PodRequestsTest, LimitOnlyEpcIsRequestedAtItsLimit) {
  Pod pod;
  pod.containers = {Limits({{kAzure, "10"}, {"cpu", "2"}})};
  pod.containers[0].requests = List({{"cpu", "500m"}});
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.milli_cpu, 500);  // the request wins over the limit
  EXPECT_EQ(r.Get(kAzure), 10);
  EXPECT_EQ(r.epc_bytes, 10 * kMiB);
}

TEST(PodRequestsTest, LimitOnlyIntelEpcInInitAndSidecar) {
  Pod pod;
  pod.init_containers = {Sidecar(Limits({{kIntel, "16Mi"}})), Limits({{kIntel, "64Mi"}})};
  pod.containers = {Limits({{kIntel, "32Mi"}})};
  Resources r = PodRequests(pod, EpcResources());
  // max(app 32 + sidecar 16 = 48, init 64 + 16 = 80)
  EXPECT_EQ(r.Get(kIntel), 80 * kMiB);
  EXPECT_EQ(r.epc_bytes, 80 * kMiB);
}

TEST(PodRequestsTest, EpcInBothUnitsAddsUpInBytes) {
  Pod pod;
  pod.containers = {Limits({{kAzure, "10"}}), Requests({{kIntel, "1Mi"}})};
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.Get(kAzure), 10);
  EXPECT_EQ(r.Get(kIntel), kMiB);
  EXPECT_EQ(r.epc_bytes, 11 * kMiB);
}

TEST(PodRequestsTest, EpcOverhead) {
  Pod pod;
  pod.containers = {Limits({{kAzure, "10"}})};
  pod.overhead = List({{kAzure, "2"}});
  EXPECT_EQ(PodRequests(pod, EpcResources()).epc_bytes, 12 * kMiB);
}

TEST(PodRequestsTest, SumsExactQuantitiesBeforeRounding) {
  // Like kube-scheduler: 0.5 + 0.5 bytes is 1 byte, not 2.
  Pod pod;
  pod.containers = {Requests({{"memory", "0.5"}, {"cpu", "0.5m"}}),
                    Requests({{"memory", "0.5"}, {"cpu", "0.5m"}})};
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.memory, 1);
  EXPECT_EQ(r.milli_cpu, 1);
}

TEST(PodRequestsTest, ExtendedResourcesAndStorage) {
  Pod pod;
  pod.containers = {Requests({{"nvidia.com/gpu", "1"}, {"ephemeral-storage", "1Gi"}}),
                    Requests({{"nvidia.com/gpu", "2"}})};
  pod.init_containers = {Requests({{"nvidia.com/gpu", "4"}})};
  Resources r = PodRequests(pod, EpcResources());
  EXPECT_EQ(r.Get("nvidia.com/gpu"), 4);
  EXPECT_EQ(r.ephemeral_storage, 1073741824);
  EXPECT_EQ(r.epc_bytes, 0);
  EXPECT_EQ(r.pods, 1);
}

}  // namespace
}  // namespace epc
