// Google Benchmark cases for the extender's request path, without HTTP:
//
//   BM_Decode           DecodeExtenderArgs over the request body (bytes/s), full-mode nodes
//                       with the extender's projection, as the server decodes them (full mode
//                       from 1,000 nodes on two threads: DecodeFullModeArgsInParts)
//   BM_DecodeInOnePass  full mode, the same in one pass on one thread
//   BM_Filter           Extender::Filter over decoded args
//   BM_Prioritize       Extender::Prioritize over decoded args
//   BM_EncodeFilter     EncodeFilterResult of the filter answer
//   BM_EncodePrioritize EncodePriorities of the scores
//   BM_FilterRequest    decode + filter + encode: what the filter handler does after reading
//   BM_PrioritizeRequest  the same for prioritize
//   BM_FilterBesideHolds  names-mode filter at 5,000 nodes while 0, 1, 4, 16 other pods hold EPC
//
// each in names mode (nodeCacheCapable: NodeNames, nodes from the store) and full mode (whole
// v1.Node objects in the body, ~9 KB each) at 100, 1,000 and 5,000 nodes. The store holds the
// same nodes with about three pods bound to each.
//
// Full-mode decode split (where the decode time goes), full mode only:
//   BM_ScanItems        the outer on-demand pass alone: iterate the body and take raw_json() of
//                       every Nodes.items element (structural indexing + skipping)
//   BM_ScanAndReparse   that, plus a second on-demand iteration of every item that skips all of
//                       its fields (what DecodeNodeItem costs before the model is built)
//   BM_NlohmannDom      nlohmann::json::parse of the body, for reference (a DOM parse)
//
// Counter allocs/node: heap allocations per node and iteration (operator new is counted).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "benchmarks/alloc_counter.h"
#include "benchmarks/cluster_gen.h"
#include "scheduler/extender/extender.h"
#include "scheduler/wire/extender_args.h"
#include "scheduler/wire/extender_results.h"

namespace epc::bench {
namespace {

namespace od = simdjson::ondemand;

enum class Mode { kNames, kFull };

// One request body per mode and size, built once.
struct Body {
  RequestBuffer buffer;
  simdjson::padded_string_view view;
};

Body& BodyFor(Mode mode, size_t nodes) {
  static std::map<std::pair<Mode, size_t>, std::unique_ptr<Body>> bodies;
  auto& slot = bodies[{mode, nodes}];
  if (!slot) {
    slot = std::make_unique<Body>();
    std::string text = mode == Mode::kFull ? FullModeBody(nodes) : NamesModeBody(nodes);
    slot->buffer.Reserve(text.size());
    slot->buffer.Append(text.data(), text.size());
    slot->view = slot->buffer.View();
  }
  return *slot;
}

// One store (with its extender) per size, shared by both modes.
struct Cluster {
  Config config;
  std::unique_ptr<ClusterStore> store;
  std::unique_ptr<Extender> extender;
};

std::unique_ptr<Cluster> NewCluster(size_t nodes) {
  auto cluster = std::make_unique<Cluster>();
  cluster->config = BenchConfig();
  cluster->store = NewFilledStore(cluster->config, nodes);
  cluster->extender = std::make_unique<Extender>(*cluster->store, cluster->config.scheduling);
  return cluster;
}

Cluster& ClusterFor(size_t nodes) {
  static std::map<size_t, std::unique_ptr<Cluster>> clusters;
  auto& slot = clusters[nodes];
  if (!slot) slot = NewCluster(nodes);
  return *slot;
}

// As the server decodes: full-mode nodes with the extender's projection.
Result<ExtenderArgs> Decode(Body& body, size_t nodes) {
  return DecodeExtenderArgs(body.buffer, ClusterFor(nodes).extender->node_projection());
}

ExtenderArgs DecodeOrDie(Mode mode, size_t nodes, const Cluster& cluster) {
  Result<ExtenderArgs> args =
      DecodeExtenderArgs(BodyFor(mode, nodes).buffer, cluster.extender->node_projection());
  if (!args) {
    std::fprintf(stderr, "decode failed: %s\n", args.error().c_str());
    std::abort();
  }
  return std::move(args).value();
}

ExtenderArgs DecodeOrDie(Mode mode, size_t nodes) {
  return DecodeOrDie(mode, nodes, ClusterFor(nodes));
}

void Report(benchmark::State& state, size_t nodes, uint64_t allocations) {
  state.counters["nodes"] = static_cast<double>(nodes);
  state.counters["allocs/node"] =
      static_cast<double>(allocations) / static_cast<double>(state.iterations() * nodes);
}

void DecodeLoop(benchmark::State& state, Mode mode, bool one_pass) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Body& body = BodyFor(mode, nodes);
  const NodeProjection& projection = ClusterFor(nodes).extender->node_projection();
  uint64_t allocations = 0;
  for (auto _ : state) {
    uint64_t before = AllocationCount();
    Result<ExtenderArgs> args = one_pass ? DecodeExtenderArgsInFull(body.view, projection)
                                         : DecodeExtenderArgs(body.buffer, projection);
    allocations += AllocationCount() - before;
    if (!args) state.SkipWithError(args.error().c_str());
    benchmark::DoNotOptimize(args);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.buffer.size()));
  state.counters["body_MB"] = static_cast<double>(body.buffer.size()) / 1e6;
  Report(state, nodes, allocations);
}

void BM_Decode(benchmark::State& state, Mode mode) { DecodeLoop(state, mode, false); }
void BM_DecodeInOnePass(benchmark::State& state) { DecodeLoop(state, Mode::kFull, true); }

void BM_Filter(benchmark::State& state, Mode mode) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Cluster& cluster = ClusterFor(nodes);
  ExtenderArgs args = DecodeOrDie(mode, nodes);
  uint64_t allocations = 0;
  size_t passed = 0;
  for (auto _ : state) {
    uint64_t before = AllocationCount();
    FilterOutcome out = cluster.extender->Filter(args);
    allocations += AllocationCount() - before;
    passed = out.answer.names_mode ? out.answer.passing_node_names.size()
                                   : out.answer.passing_nodes_json.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["passed"] = static_cast<double>(passed);
  Report(state, nodes, allocations);
}

// Filter while other pods hold EPC: kube-scheduler filters the next pod before the watch shows
// the previous ones bound, so a burst of EPC pods leaves holds (reservations.h) that every
// node's check adds up. A cluster of its own, so the holds touch no other case; range(1) other
// pods (each with its own uid, the benchmark pod's request) are filtered first, each holding
// its request on the nodes it passed.
void BM_FilterBesideHolds(benchmark::State& state) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  const auto others = static_cast<size_t>(state.range(1));
  const std::unique_ptr<Cluster> cluster = NewCluster(nodes);
  ExtenderArgs args = DecodeOrDie(Mode::kNames, nodes, *cluster);
  const std::string uid = args.pod.uid;
  for (size_t i = 0; i < others; ++i) {
    args.pod.uid = uid + "-other-" + std::to_string(i);
    cluster->extender->Filter(args);
  }
  args.pod.uid = uid;
  size_t passed = 0;
  for (auto _ : state) {
    FilterOutcome out = cluster->extender->Filter(args);
    passed = out.answer.passing_node_names.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["passed"] = static_cast<double>(passed);
  state.counters["held_pods"] = static_cast<double>(cluster->extender->held_pods());
}

// A filter right after the watch changed the store (a pod bound, as in a burst of scheduling).
// background:0: the first Snapshot() after a change publishes a new snapshot (copies the
// store's maps and indexes the names) inside that filter, as a store without background
// publishing does. background:1: the store publishes on its own thread (PublishInBackground,
// as epc-extender runs it) and the filter reads the last snapshot built. BM_Filter never
// changes the store.
void BM_FilterAfterAWatchEvent(benchmark::State& state) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  const bool background = state.range(1) != 0;
  const std::unique_ptr<Cluster> cluster = NewCluster(nodes);
  if (background) cluster->store->PublishInBackground(std::chrono::milliseconds(20));
  const ExtenderArgs args = DecodeOrDie(Mode::kNames, nodes, *cluster);
  Pod event;
  event.uid = "watch-event";
  event.name = "watch-event";
  event.namespace_name = "default";
  event.phase = "Running";
  size_t i = 0;
  for (auto _ : state) {
    event.node_name = NodeName(i++ % nodes);
    cluster->store->UpsertPod(event);
    FilterOutcome out = cluster->extender->Filter(args);
    benchmark::DoNotOptimize(out);
  }
  state.counters["nodes"] = static_cast<double>(nodes);
}

void BM_Prioritize(benchmark::State& state, Mode mode) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Cluster& cluster = ClusterFor(nodes);
  ExtenderArgs args = DecodeOrDie(mode, nodes);
  uint64_t allocations = 0;
  for (auto _ : state) {
    uint64_t before = AllocationCount();
    Priorities scores = cluster.extender->Prioritize(args);
    allocations += AllocationCount() - before;
    benchmark::DoNotOptimize(scores);
  }
  Report(state, nodes, allocations);
}

void BM_EncodeFilter(benchmark::State& state, Mode mode) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Cluster& cluster = ClusterFor(nodes);
  ExtenderArgs args = DecodeOrDie(mode, nodes);
  FilterOutcome out = cluster.extender->Filter(args);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string answer = EncodeFilterResult(out.answer);
    bytes = answer.size();
    benchmark::DoNotOptimize(answer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["answer_MB"] = static_cast<double>(bytes) / 1e6;
}

void BM_EncodePrioritize(benchmark::State& state, Mode mode) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Cluster& cluster = ClusterFor(nodes);
  ExtenderArgs args = DecodeOrDie(mode, nodes);
  Priorities scores = cluster.extender->Prioritize(args);
  for (auto _ : state) {
    std::string answer = EncodePriorities(scores.hosts);
    benchmark::DoNotOptimize(answer);
  }
}

void BM_FilterRequest(benchmark::State& state, Mode mode) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Cluster& cluster = ClusterFor(nodes);
  Body& body = BodyFor(mode, nodes);
  for (auto _ : state) {
    Result<ExtenderArgs> args = Decode(body, nodes);
    FilterOutcome out = cluster.extender->Filter(*args);
    std::string answer = EncodeFilterResult(out.answer);
    benchmark::DoNotOptimize(answer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.buffer.size()));
}

void BM_PrioritizeRequest(benchmark::State& state, Mode mode) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Cluster& cluster = ClusterFor(nodes);
  Body& body = BodyFor(mode, nodes);
  for (auto _ : state) {
    Result<ExtenderArgs> args = Decode(body, nodes);
    std::string answer = EncodePriorities(cluster.extender->Prioritize(*args).hosts);
    benchmark::DoNotOptimize(answer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.buffer.size()));
}

// ---- full-mode decode split --------------------------------------------------------------------

// Walks to Nodes.items and calls fn(raw item text) for each element; the canonical Go field
// names are assumed (the real decoder matches any casing).
template <typename Fn>
bool ForEachRawItem(od::parser& parser, simdjson::padded_string_view view, Fn&& fn) {
  od::document doc;
  if (parser.iterate(view).get(doc)) return false;
  od::object root;
  if (doc.get_object().get(root)) return false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    if (key != "Nodes") continue;
    od::object list;
    if (field.value().get_object().get(list)) return false;
    for (auto list_field : list) {
      std::string_view list_key;
      if (list_field.unescaped_key().get(list_key)) return false;
      if (list_key != "items") continue;
      od::array items;
      if (list_field.value().get_array().get(items)) return false;
      for (auto item : items) {
        od::object obj;
        if (item.get_object().get(obj)) return false;
        std::string_view raw;
        if (obj.raw_json().get(raw)) return false;
        fn(raw);
      }
    }
  }
  return true;
}

void BM_ScanItems(benchmark::State& state) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Body& body = BodyFor(Mode::kFull, nodes);
  od::parser parser;
  for (auto _ : state) {
    size_t count = 0;
    if (!ForEachRawItem(parser, body.view, [&](std::string_view) { ++count; }))
      state.SkipWithError("scan failed");
    benchmark::DoNotOptimize(count);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.buffer.size()));
}

void BM_ScanAndReparse(benchmark::State& state) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Body& body = BodyFor(Mode::kFull, nodes);
  const char* end = body.view.data() + body.view.capacity();
  od::parser parser;
  od::parser item_parser;
  for (auto _ : state) {
    size_t fields = 0;
    bool ok = ForEachRawItem(parser, body.view, [&](std::string_view raw) {
      simdjson::padded_string_view text(raw.data(), raw.size(),
                                        static_cast<size_t>(end - raw.data()));
      od::document doc;
      od::object obj;
      if (item_parser.iterate(text).get(doc) || doc.get_object().get(obj)) return;
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key) == simdjson::SUCCESS) ++fields;
      }
    });
    if (!ok) state.SkipWithError("scan failed");
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.buffer.size()));
}

void BM_NlohmannDom(benchmark::State& state) {
  const size_t nodes = static_cast<size_t>(state.range(0));
  Body& body = BodyFor(Mode::kFull, nodes);
  for (auto _ : state) {
    nlohmann::json doc = nlohmann::json::parse(body.buffer.text());
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.buffer.size()));
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_Decode, names, Mode::kNames)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_Decode, full, Mode::kFull)->Apply(Sizes);
BENCHMARK(BM_DecodeInOnePass)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_Filter, names, Mode::kNames)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_Filter, full, Mode::kFull)->Apply(Sizes);
BENCHMARK(BM_FilterBesideHolds)
    ->ArgsProduct({{5000}, {0, 1, 4, 16}})
    ->ArgNames({"nodes", "holds"})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FilterAfterAWatchEvent)
    ->ArgNames({"nodes", "background"})
    ->ArgsProduct({{1000, 5000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Prioritize, names, Mode::kNames)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_Prioritize, full, Mode::kFull)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_EncodeFilter, names, Mode::kNames)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_EncodeFilter, full, Mode::kFull)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_EncodePrioritize, names, Mode::kNames)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_EncodePrioritize, full, Mode::kFull)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_FilterRequest, names, Mode::kNames)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_FilterRequest, full, Mode::kFull)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_PrioritizeRequest, names, Mode::kNames)->Apply(Sizes);
BENCHMARK_CAPTURE(BM_PrioritizeRequest, full, Mode::kFull)->Apply(Sizes);
BENCHMARK(BM_ScanItems)->Apply(Sizes);
BENCHMARK(BM_ScanAndReparse)->Apply(Sizes);
BENCHMARK(BM_NlohmannDom)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace epc::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("simdjson_ondemand_kernel",
                              SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
  benchmark::AddCustomContext("simdjson_runtime_kernel",
                              simdjson::get_active_implementation()->name());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
