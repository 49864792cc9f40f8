#include "scheduler/wire/extender_args.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/k8s/decode.h"
#include "common/util/name_hash.h"
#include "tests/scheduler/testing/fixtures.h"

namespace epc {
namespace {

using testing::Example;

Result<ExtenderArgs> Decode(RequestBuffer& buffer) { return DecodeExtenderArgs(buffer.View()); }

TEST(ExtenderArgs, DecodesTheFullModeExample) {
  RequestBuffer body(Example("filter-full-mode.json"));
  Result<ExtenderArgs> args = Decode(body);
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_EQ(args->pod.name, "enclave-web-7d9f8");
  EXPECT_EQ(args->pod.namespace_name, "default");
  EXPECT_EQ(args->pod.uid, "4e406cee-4eaa-79ff-4612-4904a5c295d5");
  EXPECT_FALSE(args->names_mode());
  EXPECT_FALSE(args->node_names.has_value());
  ASSERT_TRUE(args->nodes.has_value());
  ASSERT_EQ(args->nodes->size(), 3u);
  const char* names[] = {"aks-sgxpool-0", "aks-sgxpool-1", "aks-generalpool-0"};
  for (size_t i = 0; i < 3; ++i) {
    const WireNode& node = (*args->nodes)[i];
    EXPECT_TRUE(node.decoded.error.empty()) << node.decoded.error;
    EXPECT_EQ(node.decoded.node.name, names[i]);
    // The raw text is the item exactly: an object, and it decodes to the same node.
    ASSERT_FALSE(node.raw.empty());
    EXPECT_EQ(node.raw.front(), '{');
    EXPECT_EQ(node.raw.back(), '}');
    NodeDecodeResult again = ParseNodeJson(node.raw);
    EXPECT_TRUE(again.error.empty()) << again.error;
    EXPECT_EQ(again.node.name, names[i]);
    EXPECT_EQ(again.node.allocatable, node.decoded.node.allocatable);
    // ... and it points into the request buffer, not a copy.
    EXPECT_GE(node.raw.data(), body.text().data());
    EXPECT_LE(node.raw.data() + node.raw.size(), body.text().data() + body.size());
  }
  EXPECT_EQ((*args->nodes)[0].decoded.node.allocatable.at(std::string(testing::kAzureEpc)).Value(),
            168);
}

TEST(ExtenderArgs, DecodesTheNamesModeExample) {
  RequestBuffer body(Example("filter-names-mode.json"));
  Result<ExtenderArgs> args = Decode(body);
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_TRUE(args->names_mode());
  EXPECT_FALSE(args->nodes.has_value());
  ASSERT_TRUE(args->node_names.has_value());
  EXPECT_EQ(*args->node_names,
            (std::vector<std::string_view>{"aks-sgxpool-0", "aks-sgxpool-1", "aks-generalpool-0"}));
  EXPECT_EQ(args->pod.name, "enclave-web-7d9f8");
}

// Names with and without escapes, of every length up to 20, with whitespace between tokens: each
// decodes to its JSON string value; the plain ones are views into the body itself.
TEST(ExtenderArgs, NodeNamesDecodeToTheirStringValues) {
  const std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  std::vector<std::string> texts = {R"("")",
                                    R"("a\"b")",
                                    R"("tab\there")",
                                    R"("\u00e9t\u00e9")",
                                    "\"\xc3\xa9t\xc3\xa9\"",
                                    R"("back\\slash")",
                                    R"("sl\/ash")",
                                    R"("x\\")"};
  for (size_t len = 1; len <= 20; ++len) texts.push_back("\"" + std::string(len, 'n') + "\"");
  std::string list;
  for (const std::string& t : texts) list += (list.empty() ? " " : " ,\n ") + t + "  ";
  RequestBuffer body(R"({"Pod": )" + pod + R"(, "NodeNames": [)" + list + "]}");
  Result<ExtenderArgs> args = Decode(body);
  ASSERT_TRUE(args.ok()) << args.error();
  ASSERT_EQ(args->node_names->size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string expected = nlohmann::json::parse(texts[i]).get<std::string>();
    const std::string_view name = (*args->node_names)[i];
    EXPECT_EQ(name, expected) << texts[i];
    const bool in_body = name.data() >= body.text().data() &&
                         name.data() + name.size() <= body.text().data() + body.size();
    EXPECT_EQ(in_body, texts[i].find('\\') == std::string::npos) << texts[i];
  }
}

TEST(ExtenderArgs, KeysMatchInAnyCasingAndOrder) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  for (const char* fmt :
       {R"({"pod": %s, "nodenames": ["a"], "nodes": null})", R"({"NODENAMES": ["a"], "POD": %s})",
        R"({"nodeNames": ["a"], "Nodes": null, "Pod": %s})"}) {
    std::string text(fmt);
    text.replace(text.find("%s"), 2, pod);
    RequestBuffer body(text);
    Result<ExtenderArgs> args = Decode(body);
    ASSERT_TRUE(args.ok()) << text << ": " << args.error();
    EXPECT_TRUE(args->names_mode());
    EXPECT_EQ(args->pod.uid, "u1");
    EXPECT_EQ(*args->node_names, std::vector<std::string_view>{"a"});
  }
  // The list's own keys too.
  RequestBuffer body(R"({"nodes": {"ITEMS": [{"metadata": {"name": "n1"}}]}, "pod": )" + pod + "}");
  Result<ExtenderArgs> args = Decode(body);
  ASSERT_TRUE(args.ok()) << args.error();
  ASSERT_EQ(args->nodes->size(), 1u);
  EXPECT_EQ((*args->nodes)[0].decoded.node.name, "n1");
  EXPECT_EQ((*args->nodes)[0].raw, R"({"metadata": {"name": "n1"}})");
}

TEST(ExtenderArgs, NullOrMissingItemsIsAnEmptyList) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  for (std::string nodes :
       {R"({"metadata": {}, "items": null})", R"({"metadata": {}})", R"({"items": []})"}) {
    RequestBuffer body(R"({"Pod": )" + pod + R"(, "Nodes": )" + nodes + R"(, "NodeNames": null})");
    Result<ExtenderArgs> args = Decode(body);
    ASSERT_TRUE(args.ok()) << nodes << ": " << args.error();
    ASSERT_TRUE(args->nodes.has_value());
    EXPECT_TRUE(args->nodes->empty());
    EXPECT_FALSE(args->names_mode());
  }
}

TEST(ExtenderArgs, ANodeThatFailsToDecodeKeepsItsNameAndError) {
  testing::NodeSpec spec = testing::SgxNode("sgx-bad");
  spec.cpu = "4x";
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  RequestBuffer body(testing::FullModeArgs(
      pod, {testing::NodeJson(testing::SgxNode("sgx-ok")), testing::NodeJson(spec)}));
  Result<ExtenderArgs> args = Decode(body);
  ASSERT_TRUE(args.ok()) << args.error();
  ASSERT_EQ(args->nodes->size(), 2u);
  EXPECT_TRUE((*args->nodes)[0].decoded.error.empty());
  EXPECT_EQ((*args->nodes)[1].decoded.node.name, "sgx-bad");
  EXPECT_NE((*args->nodes)[1].decoded.error.find("4x"), std::string::npos)
      << (*args->nodes)[1].decoded.error;
}

TEST(ExtenderArgs, BothListsSetMeansFullMode) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  RequestBuffer body(R"({"Pod": )" + pod +
                     R"(, "NodeNames": ["x"], "Nodes": {"items": [{"metadata": {"name": "x"}}]}})");
  Result<ExtenderArgs> args = Decode(body);
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_FALSE(args->names_mode());
}

struct BadCase {
  std::string body;
  std::string error_part;
};

TEST(ExtenderArgs, BadInputIsAnErrorThatSaysWhatIsWrong) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  const BadCase cases[] = {
      {"", "request body is empty"},
      {"   \n", "request body is empty"},
      {"not json", "request body is not JSON"},
      {"{\"Pod\": \"unterminated}", "request body is not JSON"},
      {R"({"Pod": )", "request body is not JSON"},
      {R"({"Pod": {"metadata": {"name": "p"}}, "NodeNames": ["a",)", "request body is not JSON"},
      {"[1, 2]", "request body must be a JSON object, not an array"},
      {"42", "request body must be a JSON object"},
      {R"({"NodeNames": ["a"]})", "\"Pod\" is missing"},
      {R"({"Pod": null, "NodeNames": ["a"]})", "\"Pod\" is null"},
      {R"({"Pod": "pod", "NodeNames": ["a"]})", "\"Pod\" must be an object"},
      {R"({"Pod": )" + pod + R"(, "NodeNames": [1, 2]})",
       "\"NodeNames\" must be an array of strings"},
      {R"({"Pod": )" + pod + R"(, "NodeNames": "a"})", "\"NodeNames\" must be an array of strings"},
      {R"({"Pod": )" + pod + R"(, "NodeNames": [null]})",
       "\"NodeNames\" must be an array of strings"},
      {R"({"Pod": )" + pod + R"(, "Nodes": []})", "\"Nodes\" must be an object"},
      {R"({"Pod": )" + pod + R"(, "Nodes": {"items": {}}})", "\"Nodes.items\" must be an array"},
      {R"({"Pod": )" + pod + R"(, "Nodes": {"items": [{"metadata": {}}, 5]}})",
       "\"Nodes.items[1]\" must be an object"},
      {R"({"Pod": )" + pod + R"(, "Nodes": {"items": [{"metadata": {"name": "a"}, ]}})",
       "request body is not JSON"},
      {R"({"Pod": )" + pod + R"(, "Nodes": {"items": [{"metadata": {"name": "a"})",
       "request body is not JSON"},
      {"nope", "request body is not JSON"},
      {"\"text\"", "request body must be a JSON object, not a scalar"},
      {"null", "request body must be a JSON object, not a scalar"},
      {"nul", "request body is not JSON"},
      {R"({"Pod": )" + pod + R"(, "Nodes": null, "NodeNames": null})",
       "\"Nodes\" and \"NodeNames\" are both"},
      {R"({"Pod": )" + pod + "}", "\"Nodes\" and \"NodeNames\" are both"},
      {R"({"Pod": )" + pod + R"(, "NodeNames": []} trailing)", "request body is not JSON"},
      {R"({"Pod": {"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1x"}}}]}}, "NodeNames": []})",
       "\"Pod\": "},
  };
  for (const BadCase& c : cases) {
    RequestBuffer body(c.body);
    Result<ExtenderArgs> args = Decode(body);
    ASSERT_FALSE(args.ok()) << "accepted: " << c.body;
    EXPECT_NE(args.error().find(c.error_part), std::string::npos)
        << "body: " << c.body.substr(0, 200) << "\nerror: " << args.error()
        << "\nwanted: " << c.error_part;
  }
}

TEST(ExtenderArgs, NothingReadsPastTheBody) {
  // A body cut right after a node item: the item parser must stop at the buffer's end.
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  std::string text = R"({"Pod": )" + pod + R"(, "Nodes": {"items": [{"metadata": {"name": "a"}}])";
  RequestBuffer body(text);
  Result<ExtenderArgs> args = Decode(body);
  EXPECT_FALSE(args.ok());
}

// The raw text kept for each item (echoed byte for byte in the filter answer) is the item's
// text as received, whatever the spacing, escapes or nesting, and whether or not it decodes.
TEST(ExtenderArgs, ItemTextIsTheItemAsReceived) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  const std::vector<std::string> items = {
      R"({"metadata":{"name":"compact"}})",
      "{ \"metadata\" : { \"name\" : \"spaced\" } ,\n\t\"x\": [1, 2.50, {\"y\": null}] }",
      R"({"metadata": {"name": "esc\u0061ped \"q\" \\ }"}, "s": "} ] ,"})",
      R"({"metadata": {"name": "bad"}, "status": {"allocatable": {"cpu": "1q"}}})",
      R"({"metadata": {"name": "deep"}, "a": [[[[{"b": [{}]}]]]], "z": {}})",
      R"({})",
  };
  std::string text = R"({"Pod": )" + pod + R"(, "Nodes": {"items": [)";
  for (size_t i = 0; i < items.size(); ++i) {
    text += i == 0 ? "\n  " : " ,\r\n  ";
    text += items[i];
  }
  text += "\n]}, \"NodeNames\": null}";
  NodeProjection narrow;
  narrow.annotations = false;
  narrow.all_labels = false;
  narrow.all_resources = false;
  for (const NodeProjection& projection : {NodeProjection(), narrow}) {
    RequestBuffer body(text);
    Result<ExtenderArgs> args = DecodeExtenderArgs(body.View(), projection);
    ASSERT_TRUE(args.ok()) << args.error();
    ASSERT_EQ(args->nodes->size(), items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ((*args->nodes)[i].raw, items[i]);
      // A view into the body itself, not a copy.
      EXPECT_GE((*args->nodes)[i].raw.data(), body.text().data());
      EXPECT_LT((*args->nodes)[i].raw.data(), body.text().data() + body.size());
    }
    EXPECT_EQ((*args->nodes)[1].decoded.node.name, "spaced");
    EXPECT_EQ((*args->nodes)[2].decoded.node.name, "escaped \"q\" \\ }");
    EXPECT_NE((*args->nodes)[3].decoded.error, "");
    EXPECT_EQ((*args->nodes)[4].decoded.node.name, "deep");
  }
}

TEST(ExtenderArgs, ItemsThatAreNotObjectsOrBrokenAreErrors) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  for (const std::string items :
       {R"([{"metadata": {}}, 5])", R"([{"metadata": {"name": "a"} "x": 1}])",
        R"([{"metadata": {"name": "a"}])",
        R"([{"metadata": {"name": "a", "labels": {"b" "c"}}}])"}) {
    RequestBuffer body(R"({"Pod": )" + pod + R"(, "Nodes": {"items": )" + items + "}}");
    Result<ExtenderArgs> args = Decode(body);
    EXPECT_FALSE(args.ok()) << items;
  }
}

// Names are views into the body; a name with escapes is unescaped into storage of the args,
// which moving the args keeps valid.
TEST(ExtenderArgs, NodeNamesAreViewsOrUnescaped) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  // Raw UTF-8 without escapes is not plain ASCII, yet the text is the name: a view too.
  RequestBuffer body(R"({"Pod": )" + pod +
                     R"(, "NodeNames": ["plain" , "with\"quote", "tab\tand\u00e9", "", "x",)" +
                     "\"n\xC3\xB6"
                     "de\"\n ]}");
  Result<ExtenderArgs> decoded = Decode(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ExtenderArgs args = std::move(decoded).value();
  EXPECT_EQ(*args.node_names,
            (std::vector<std::string_view>{"plain", "with\"quote", "tab\tand\xC3\xA9", "", "x",
                                           "n\xC3\xB6"
                                           "de"}));
  EXPECT_EQ((*args.node_names)[0].data(), body.text().data() + body.text().find("plain"));
  EXPECT_EQ((*args.node_names)[5].data(), body.text().data() + body.text().find("n\xC3\xB6"
                                                                                "de"));
  EXPECT_EQ(args.unescaped_names.size(), 2u);
  // Hashed as decoded, escaped or not: what the extender looks the names up by.
  EXPECT_EQ(args.node_name_hashes, HashNames(*args.node_names));
}

// The decoders' hashes are used when they belong to the names; args put together otherwise (or
// changed after decoding) get their names hashed.
TEST(ExtenderArgs, NodeNameHashesFollowTheNames) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  RequestBuffer body(R"({"Pod": )" + pod + R"(, "NodeNames": ["a", "b"]})");
  Result<ExtenderArgs> decoded = Decode(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ExtenderArgs args = std::move(decoded).value();
  std::vector<uint64_t> scratch;
  EXPECT_EQ(NodeNameHashes(args, scratch).data(), args.node_name_hashes.data());

  ExtenderArgs built;
  built.node_names = std::vector<std::string_view>{"a", "b", "c"};
  const std::span<const uint64_t> hashes = NodeNameHashes(built, scratch);
  EXPECT_EQ(std::vector<uint64_t>(hashes.begin(), hashes.end()),
            (std::vector<uint64_t>{HashName("a"), HashName("b"), HashName("c")}));
  args.node_names->push_back("c");
  const std::span<const uint64_t> grown = NodeNameHashes(args, scratch);
  EXPECT_EQ(std::vector<uint64_t>(grown.begin(), grown.end()), HashNames(*built.node_names));
}

// How many of the broken variants of a body a decoder took: every prefix of it, and it with
// each byte replaced by each of a set of bytes that JSON gives meaning to. `takes` checks what
// it took and says whether it took it.
struct BrokenVariants {
  size_t prefixes = 0;
  size_t replaced = 0;
  size_t tried = 0;
};

BrokenVariants TryBrokenVariants(const std::string& base, bool (*takes)(const std::string& text)) {
  BrokenVariants out;
  for (size_t n = 0; n < base.size(); ++n) {
    out.prefixes += takes(base.substr(0, n));
    ++out.tried;
  }
  const std::string replacements("\"\\{}[],: x0n\x01\x80\x7f", 15);
  for (size_t i = 0; i < base.size(); ++i) {
    for (char r : replacements) {
      if (base[i] == r) continue;
      std::string text = base;
      text[i] = r;
      out.replaced += takes(text);
      ++out.tried;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The names-mode fast path (DecodeNamesModeArgsFast) against the full decoder

// The fast path's answer, when it gives one, is the full decoder's: a success with the same pod
// and the same names, views into the body. Returns whether the fast path took the body.
bool FastAgreesWithFull(const std::string& text) {
  RequestBuffer body(text);
  const simdjson::padded_string_view view = body.View();
  std::optional<ExtenderArgs> fast = DecodeNamesModeArgsFast(view);
  Result<ExtenderArgs> full = DecodeExtenderArgsInFull(view);
  // Whichever half decodes it, DecodeExtenderArgs answers as the full decoder does.
  Result<ExtenderArgs> either = DecodeExtenderArgs(view);
  EXPECT_EQ(either.ok(), full.ok()) << text;
  if (!either.ok() && !full.ok()) {
    EXPECT_EQ(either.error(), full.error()) << text;
  }
  if (!fast) return false;
  EXPECT_TRUE(full.ok()) << "the fast path took a body the full decoder rejects ("
                         << (full.ok() ? "" : full.error()) << "): " << text;
  if (!full.ok()) return true;
  EXPECT_TRUE(fast->pod == full->pod) << text;
  EXPECT_FALSE(fast->nodes.has_value()) << text;
  EXPECT_EQ(fast->node_names, full->node_names) << text;
  EXPECT_EQ(fast->node_name_hashes, full->node_name_hashes) << text;
  if (fast->node_names) {
    EXPECT_EQ(fast->node_name_hashes, HashNames(*fast->node_names)) << text;
  }
  EXPECT_TRUE(fast->unescaped_names.empty()) << text;
  for (std::string_view name : fast->node_names.value_or(std::vector<std::string_view>{})) {
    EXPECT_TRUE(name.data() >= body.text().data() &&
                name.data() + name.size() <= body.text().data() + body.size())
        << "not a view into the body: " << name;
  }
  return true;
}

TEST(NamesModeFastPath, TakesWhatKubeSchedulerSends) {
  const std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  const std::vector<std::string> taken = {
      Example("filter-names-mode.json"),
      R"({"Pod":)" + pod + R"(,"Nodes":null,"NodeNames":["a","b-1","c.example.com"]})",
      R"({"pod": )" + pod + R"(, "nodenames": ["a"], "nodes": null})",
      R"({"NODENAMES": ["a"], "POD": )" + pod + "}",
      " \n\t{ \"Pod\" :" + pod + " , \"NodeNames\" : [ \"a\" , \"b\" ] } \r\n",
      R"({"Pod":)" + pod + R"(,"NodeNames":[]})",
      // Repeated keys: the last one counts, as in the full decoder.
      R"({"Pod":)" + testing::PodJson(testing::EpcPod("q", "u2", "5")) + R"(,"Pod":)" + pod +
          R"(,"NodeNames":["x"],"NodeNames":["a","b"]})",
      // A pod whose strings need unescaping and carry UTF-8: simdjson decodes it.
      R"({"Pod":{"metadata":{"name":"caf\u00e9","namespace":"d","uid":"u\"1","labels":{"k":"v\u00e9"}},"spec":{"containers":[{"name":"c","resources":{"requests":{"sgx.intel.com/epc":"10Mi"}}}]}},"NodeNames":["a"]})",
  };
  for (const std::string& text : taken) EXPECT_TRUE(FastAgreesWithFull(text)) << text;
}

TEST(NamesModeFastPath, LeavesEverythingElseToTheFullDecoder) {
  const std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  const std::vector<std::string> declined = {
      Example("filter-full-mode.json"),
      R"({"Pod":)" + pod + R"(,"NodeNames":["a\u0062"]})",          // an escape in a name
      R"({"Pod":)" + pod + "," + "\"NodeNames\":[\"n\xc3\xb6\"]}",  // UTF-8 in a name
      R"({"Pod":)" + pod + R"(,"NodeNames":["a"],"Extra":1})",      // a key it does not know
      R"({"Pod":)" + pod + R"(,"Node\u004eames":["a"]})",           // an escaped key
      R"({"Pod":null,"NodeNames":["a"]})",
      R"({"Pod":)" + pod + R"(,"NodeNames":null})",
      R"({"Pod":)" + pod + R"(,"NodeNames":["a",]})",
      R"({"Pod":)" + pod + R"(,"NodeNames":["a"]} x)",
      R"({"Pod":)" + pod + R"(,"NodeNames":["a"])",
      R"({"Pod":{"metadata":{"name":"p","uid":"u"},"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"bad"}}}]}},"NodeNames":["a"]})",
      R"({"Pod":{"metadata":{"name":"p"]},"NodeNames":["a"]})",
      R"({"Pod":)" + pod + R"(,"Nodes":{"items":[]},"NodeNames":["a"]})",
      "",
      "[]",
  };
  for (const std::string& text : declined) EXPECT_FALSE(FastAgreesWithFull(text)) << text;
}

// Every prefix of a names-mode body, and every byte of it replaced by each of a set of bytes
// that JSON gives meaning to: the fast path either declines or agrees with the full decoder.
TEST(NamesModeFastPath, NeverDisagreesWithTheFullDecoderOnBrokenBodies) {
  const std::string base =
      R"({"Pod":{"metadata":{"name":"p","namespace":"d","uid":"u1"},"spec":{"containers":[{"name":"c","resources":{"requests":{"sgx.intel.com/epc":"10Mi"}}}]}},"Nodes":null,"NodeNames":["a","bb"]})";
  ASSERT_TRUE(FastAgreesWithFull(base));
  const BrokenVariants taken = TryBrokenVariants(base, FastAgreesWithFull);
  EXPECT_EQ(taken.prefixes, 0u) << "a prefix is never a whole body";
  // Some replacements leave a body that still decodes (a letter in a name, a space): the fast
  // path must take some of those, or this test checks nothing.
  EXPECT_GT(taken.replaced, 50u) << "of " << taken.tried;
}

// ---------------------------------------------------------------------------------------------
// Full mode in parts (DecodeFullModeArgsInParts) against the one-pass decoder

std::vector<std::string> CompactNodes(size_t count) {
  std::vector<std::string> nodes;
  for (size_t i = 0; i < count; ++i) {
    nodes.push_back(testing::Compact(
        testing::NodeJson(i % 3 == 2 ? testing::GeneralNode("general-" + std::to_string(i))
                                     : testing::SgxNode("sgx-" + std::to_string(i)))));
  }
  return nodes;
}

// ExtenderArgs as kube-scheduler's Go encoder writes them, with `tail` after Nodes.items.
std::string GoFullModeBody(const std::vector<std::string>& nodes,
                           std::string_view tail = R"(]},"NodeNames":null})") {
  return testing::GoFullModeArgs(
      testing::Compact(testing::PodJson(testing::EpcPod("p", "u1", "10"))), nodes, tail);
}

// The parts' answer, when they give one, is the one-pass decoder's: a success with the same
// pod, names and nodes, each node's text the same view into the same buffer. The buffer is the
// same afterwards whatever happened. Returns whether the parts took the body. With a `chunk`,
// the body arrives `chunk` bytes at a time (FullModeStreamDecoder); else it is whole at once.
bool PartsAgreeWithOnePass(const std::string& text, size_t parts, size_t chunk = 0) {
  RequestBuffer body(chunk == 0 ? text : "");
  std::optional<ExtenderArgs> in_parts;
  if (chunk == 0) {
    in_parts = DecodeFullModeArgsInParts(body, NodeProjection(), parts);
  } else {
    FullModeStreamDecoder decoder(body, text.size(), NodeProjection(), parts);
    for (size_t at = 0; at < text.size(); at += chunk)
      decoder.Append(text.data() + at, std::min(chunk, text.size() - at));
    in_parts = decoder.FinishInParts();
  }
  EXPECT_EQ(body.text(), text) << "the buffer was left changed";
  Result<ExtenderArgs> one_pass = DecodeExtenderArgsInFull(body.View());
  if (!in_parts) return false;
  EXPECT_TRUE(one_pass.ok()) << parts << " parts took a body the one-pass decoder rejects ("
                             << (one_pass.ok() ? "" : one_pass.error()) << "): " << text;
  if (!one_pass.ok()) return true;
  EXPECT_TRUE(in_parts->pod == one_pass->pod) << text;
  EXPECT_EQ(in_parts->node_names, one_pass->node_names) << text;
  EXPECT_EQ(in_parts->node_name_hashes, one_pass->node_name_hashes) << text;
  EXPECT_EQ(in_parts->names_mode(), one_pass->names_mode()) << text;
  if (!in_parts->nodes || !one_pass->nodes) {
    ADD_FAILURE() << "no nodes: " << text;
    return true;
  }
  EXPECT_EQ(in_parts->nodes->size(), one_pass->nodes->size()) << parts << " parts: " << text;
  for (size_t i = 0; i < std::min(in_parts->nodes->size(), one_pass->nodes->size()); ++i) {
    const WireNode& a = (*in_parts->nodes)[i];
    const WireNode& b = (*one_pass->nodes)[i];
    EXPECT_EQ(a.raw.data(), b.raw.data()) << "item " << i << ", " << parts << " parts";
    EXPECT_EQ(a.raw.size(), b.raw.size()) << "item " << i << ", " << parts << " parts";
    EXPECT_EQ(a.decoded.error, b.decoded.error) << "item " << i;
    EXPECT_TRUE(a.decoded.node == b.decoded.node) << "item " << i;
  }
  return true;
}

// How many of the part counts 2, 3, 5 and 8 took the body, each agreeing with the one-pass
// decoder when it did. Each also takes the body as it arrives in chunks (of 1, 7, 64 and 1000
// bytes), and the answer must not depend on how the bytes came.
size_t PartCountsTaking(const std::string& text) {
  size_t taking = 0;
  for (auto [parts, chunk] : {std::pair<size_t, size_t>{2, 1}, {3, 7}, {5, 64}, {8, 1000}}) {
    const bool whole = PartsAgreeWithOnePass(text, parts);
    EXPECT_EQ(PartsAgreeWithOnePass(text, parts, chunk), whole)
        << parts << " parts, " << chunk << "-byte chunks: " << text;
    taking += whole;
  }
  return taking;
}
// Two parts, or as many as the body allows (a part between the first and the last); the eight
// also as the body arrives, 5 bytes at a time.
bool TwoOrEightPartsTake(const std::string& text) {
  const bool two = PartsAgreeWithOnePass(text, 2);
  const bool eight = PartsAgreeWithOnePass(text, 8);
  EXPECT_EQ(PartsAgreeWithOnePass(text, 8, 5), eight) << text;
  return eight || two;
}

TEST(FullModeInParts, TakesWhatKubeSchedulerSends) {
  const std::vector<std::string> nodes = CompactNodes(9);
  std::vector<std::string> with_bad_quantities = nodes;
  testing::NodeSpec bad = testing::SgxNode("bad-first-half", "1.5.6");
  with_bad_quantities[1] = testing::Compact(testing::NodeJson(bad));
  bad.name = "bad-second-half";
  with_bad_quantities[7] = testing::Compact(testing::NodeJson(bad));
  std::vector<std::string> many_with_bad_quantities = CompactNodes(40);
  for (size_t at : {3, 12, 19, 27, 38}) {
    many_with_bad_quantities[at] = with_bad_quantities[1];
  }
  const std::vector<std::string> taken = {
      GoFullModeBody(CompactNodes(4)),
      GoFullModeBody(many_with_bad_quantities),
      GoFullModeBody(nodes),
      GoFullModeBody(CompactNodes(40)),
      GoFullModeBody(with_bad_quantities),
      GoFullModeBody(nodes, "]}}"),                                    // no NodeNames
      GoFullModeBody(nodes, "]}  ,\n \"nodeNAMES\" :\tnull \n}\r\n"),  // spaces, any casing
      // Keys before Nodes are decoded as by the one-pass decoder: the later NodeNames wins.
      R"({"NodeNames":["x"],)" + GoFullModeBody(nodes).substr(1),
      R"({"NodeNames":["x"],)" + GoFullModeBody(nodes, "]}}").substr(1),
      // A repeated Nodes: the last one counts.
      R"({"Nodes":{"items":[)" + nodes[0] + "]}," + GoFullModeBody(nodes).substr(1),
  };
  for (const std::string& text : taken) EXPECT_EQ(PartCountsTaking(text), 4u) << text;

  // And the node with the bad quantity keeps its error on either side of the cut.
  RequestBuffer body(GoFullModeBody(with_bad_quantities));
  std::optional<ExtenderArgs> args = DecodeFullModeArgsInParts(body);
  ASSERT_TRUE(args.has_value());
  EXPECT_NE((*args->nodes)[1].decoded.error.find("1.5.6"), std::string::npos);
  EXPECT_NE((*args->nodes)[7].decoded.error.find("1.5.6"), std::string::npos);
  EXPECT_EQ((*args->nodes)[7].decoded.node.name, "bad-second-half");
}

TEST(FullModeInParts, LeavesEverythingElseToTheOnePassDecoder) {
  const std::vector<std::string> nodes = CompactNodes(9);
  auto with_broken_item = [many = CompactNodes(40)](size_t at, std::string item) mutable {
    std::vector<std::string> items = many;
    items[at] = std::move(item);
    return items;
  };
  const std::string pod = testing::Compact(testing::PodJson(testing::EpcPod("p", "u1", "10")));
  std::string extra_array =
      R"({"Nodes":{"items":[)" + nodes[0] + R"(]},"Pod":)" + pod + R"(,"Other":{"list":[)";
  for (int i = 0; i < 40; ++i)
    extra_array += (i == 0 ? "" : ",") + std::string(R"({"metadata":1})");
  extra_array += "]}}";
  const std::vector<std::string> declined = {
      GoFullModeBody(CompactNodes(1)),
      GoFullModeBody(CompactNodes(2)),  // two items give one place to cut, not two
      testing::FullModeArgs(
          testing::PodJson(testing::EpcPod("p", "u1", "10")),
          {testing::NodeJson(testing::SgxNode("a")), testing::NodeJson(testing::SgxNode("b")),
           testing::NodeJson(testing::SgxNode("c"))}),  // not Go's spacing
      GoFullModeBody(nodes, R"(]},"NodeNames":null,"Extra":1})"),
      GoFullModeBody(nodes, R"(]},"NodeNames":["a"]})"),
      GoFullModeBody(nodes, R"(]},"Node\u004eames":null})"),
      GoFullModeBody(nodes, R"(]},"Pod":null})"),
      GoFullModeBody(nodes, R"(],"x":1},"NodeNames":null})"),
      GoFullModeBody(nodes, R"(]},"NodeNames":null}x)"),
      GoFullModeBody(nodes, R"(]},"NodeNames":null)"),
      GoFullModeBody(nodes, R"(]}},"NodeNames":null})"),
      GoFullModeBody(nodes, R"(]})"),
      // Nodes.items ends before the `]` the tail has: the rest is not one array.
      GoFullModeBody(nodes, R"(]},"Pod":{"l":[1]},"NodeNames":null})"),
      // The cut falls in an array that is not Nodes.items; the head is still whole JSON.
      extra_array,
      // No pod; an item that is broken JSON, in each half; an item that is not an object.
      R"({"Nodes":{"items":[)" + nodes[0] + "," + nodes[1] + "," + nodes[2] + "," + nodes[3] +
          "]}}",
      GoFullModeBody({nodes[0], nodes[1], "{\"metadata\":{\"name\":\"x\"},\"spec\":[}", nodes[3],
                      nodes[4], nodes[5], nodes[6]}),
      GoFullModeBody({nodes[0], nodes[1], nodes[2], nodes[3], nodes[4],
                      "{\"metadata\":{\"name\":\"x\"},\"spec\":[}", nodes[6]}),
      GoFullModeBody({nodes[0], nodes[1], nodes[2], nodes[3], nodes[4], "[1]", nodes[6]}),
      // The same in the parts between the first and the last, of up to eight.
      GoFullModeBody(with_broken_item(17, "{\"metadata\":{\"name\":\"x\"},\"spec\":[}")),
      GoFullModeBody(with_broken_item(26, "{\"metadata\":{\"name\":\"x\"}")),
      GoFullModeBody(with_broken_item(31, "[1]")),
  };
  for (const std::string& text : declined) EXPECT_EQ(PartCountsTaking(text), 0u) << text;
  EXPECT_EQ(PartCountsTaking(GoFullModeBody(nodes)), 4u);  // the same nodes, Go's shape
}

// Every prefix of a small body, and every byte of it replaced by each of a set of bytes that
// JSON gives meaning to: the parts either decline or agree with the one-pass decoder, and the
// buffer is the same afterwards.
TEST(FullModeInParts, NeverDisagreesWithTheOnePassDecoderOnBrokenBodies) {
  std::vector<std::string> nodes;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    nodes.push_back(std::string(R"({"metadata":{"name":")") + name +
                    R"("},"status":{"allocatable":{"sgx.intel.com/epc":"8Mi","cpu":"2"}}})");
  }
  const std::string base =
      R"({"Pod":{"metadata":{"name":"p","uid":"u1"},"spec":{"containers":[{"name":"c"}]}},"Nodes":{"metadata":{},"items":[)" +
      nodes[0] + "," + nodes[1] + "," + nodes[2] + "," + nodes[3] + "," + nodes[4] +
      R"(]},"NodeNames":null})";
  ASSERT_EQ(PartCountsTaking(base), 4u);
  const BrokenVariants taken = TryBrokenVariants(base, TwoOrEightPartsTake);
  EXPECT_EQ(taken.prefixes, 0u) << "a prefix is never a whole body";
  // Some replacements leave a body that still decodes (a letter in a name, a space): the parts
  // must take some of those, or this test checks nothing.
  EXPECT_GT(taken.replaced, 50u) << "of " << taken.tried;
}

// What the server calls decodes a body past kSplitDecodeMinBytes in parts and gives the same
// answer as the one-pass decoder.
TEST(FullModeInParts, DecodeExtenderArgsUsesThemForLargeBodies) {
  std::vector<std::string> nodes = CompactNodes(6);
  // One large annotation puts the middle of the body inside the first node.
  nlohmann::json big = nlohmann::json::parse(nodes[0]);
  big["metadata"]["annotations"]["example.com/padding"] = std::string(kSplitDecodeMinBytes, 'x');
  nodes[0] = big.dump();
  const std::string text = GoFullModeBody(nodes);
  ASSERT_EQ(PartCountsTaking(text), 4u);

  RequestBuffer body(text);
  Result<ExtenderArgs> args = DecodeExtenderArgs(body);
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_EQ(body.text(), text);
  ASSERT_EQ(args->nodes->size(), 6u);
  EXPECT_EQ((*args->nodes)[0].decoded.node.annotations.at("example.com/padding").size(),
            kSplitDecodeMinBytes);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ((*args->nodes)[i].raw, nodes[i]) << i;
  }
  RequestBuffer broken_body(GoFullModeBody(nodes, R"(]},"NodeNames":null,})"));
  Result<ExtenderArgs> broken = DecodeExtenderArgs(broken_body);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().find("not JSON"), std::string::npos) << broken.error();
}

// ---------------------------------------------------------------------------------------------
// Full mode decoded while the body arrives (FullModeStreamDecoder)

// Each part is decoded once its bytes are in, not when the whole body is: that is the point.
TEST(FullModeStream, DecodesEachPartOnceItsBytesAreIn) {
  const std::vector<std::string> nodes = CompactNodes(40);
  const std::string text = GoFullModeBody(nodes);
  RequestBuffer body;
  FullModeStreamDecoder decoder(body, text.size(), NodeProjection(), 8);
  decoder.Append(text.data(), text.size() - 1);
  // Eight parts: the head and six arrays of items are whole; the last array ends the body.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (decoder.parts_decoded() < 7 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(decoder.parts_decoded(), 7u);
  decoder.Append(text.data() + text.size() - 1, 1);
  Result<ExtenderArgs> args = decoder.Finish();
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_EQ(decoder.parts_decoded(), 8u);
  EXPECT_EQ(body.text(), text);
  ASSERT_EQ(args->nodes->size(), nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) EXPECT_EQ((*args->nodes)[i].raw, nodes[i]) << i;
}

// More bytes than the Content-Length said, or fewer: the one-pass decoder reads what came.
TEST(FullModeStream, ABodyOfAnotherLengthIsTheOnePassDecoders) {
  const std::vector<std::string> nodes = CompactNodes(40);
  const std::string text = GoFullModeBody(nodes);
  {
    RequestBuffer body;
    FullModeStreamDecoder decoder(body, text.size() / 2, NodeProjection(), 8);
    for (size_t at = 0; at < text.size(); at += 100)
      decoder.Append(text.data() + at, std::min<size_t>(100, text.size() - at));
    Result<ExtenderArgs> args = decoder.Finish();
    ASSERT_TRUE(args.ok()) << args.error();
    EXPECT_EQ(body.text(), text);
    ASSERT_EQ(args->nodes->size(), nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) EXPECT_EQ((*args->nodes)[i].raw, nodes[i]) << i;
  }
  {
    RequestBuffer body;
    FullModeStreamDecoder decoder(body, text.size(), NodeProjection(), 8);
    decoder.Append(text.data(), text.size() - 10);
    Result<ExtenderArgs> args = decoder.Finish();
    ASSERT_FALSE(args.ok());
    EXPECT_NE(args.error().find("not JSON"), std::string::npos) << args.error();
    EXPECT_EQ(body.text(), text.substr(0, text.size() - 10));
  }
  {
    RequestBuffer body;
    FullModeStreamDecoder decoder(body, text.size(), NodeProjection(), 8);
    decoder.Append(text.data(), text.size());
    EXPECT_TRUE(decoder.FinishInParts().has_value());
    EXPECT_FALSE(decoder.FinishInParts().has_value()) << "the parts' answer is given once";
    EXPECT_EQ(body.text(), text);
  }
}

// A body that never ends (the client went away): the decoder stops and puts back every byte
// it overwrote.
TEST(FullModeStream, AnUnfinishedBodyIsLeftAsReceived) {
  const std::string text = GoFullModeBody(CompactNodes(40));
  for (size_t have : {size_t{0}, text.size() / 3, text.size() - 1}) {
    RequestBuffer body;
    {
      FullModeStreamDecoder decoder(body, text.size(), NodeProjection(), 8);
      decoder.Append(text.data(), have);
    }
    EXPECT_EQ(body.text(), text.substr(0, have));
  }
}

TEST(RequestBuffer, GrowsAndKeepsPadding) {
  RequestBuffer buffer;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string chunk = "chunk" + std::to_string(i) + ",";
    buffer.Append(chunk.data(), chunk.size());
    expected += chunk;
  }
  EXPECT_EQ(buffer.text(), expected);
  simdjson::padded_string_view view = buffer.View();
  EXPECT_EQ(std::string_view(view), expected);
  EXPECT_GE(view.padding(), simdjson::SIMDJSON_PADDING);
}

TEST(RequestBufferPool, KeepsTheLargestBuffersWithinItsBounds) {
  RequestBufferPool pool(/*min_bytes=*/100, /*max_bytes=*/1000, /*max_buffers=*/1);
  RequestBufferPool::Storage a = pool.Take(300);
  ASSERT_NE(a.data, nullptr);
  EXPECT_EQ(a.capacity, 300u);
  const char* a_bytes = a.data.get();
  pool.Give(std::move(a));
  EXPECT_EQ(pool.kept_bytes(), 300u);
  // A smaller request gets the kept buffer; a larger one a new buffer.
  RequestBufferPool::Storage b = pool.Take(200);
  EXPECT_EQ(b.data.get(), a_bytes);
  EXPECT_EQ(b.capacity, 300u);
  EXPECT_EQ(pool.kept_bytes(), 0u);
  RequestBufferPool::Storage c = pool.Take(500);
  EXPECT_NE(c.data.get(), a_bytes);
  EXPECT_EQ(c.capacity, 500u);
  // One buffer kept: the larger one.
  const char* c_bytes = c.data.get();
  pool.Give(std::move(c));
  pool.Give(std::move(b));
  EXPECT_EQ(pool.kept_bytes(), 500u);
  EXPECT_EQ(pool.Take(400).data.get(), c_bytes);
  // Too small or too large to keep.
  pool.Give({std::make_unique<char[]>(50), 50});
  pool.Give({std::make_unique<char[]>(2000), 2000});
  EXPECT_EQ(pool.kept_bytes(), 0u);
}

// Request buffers with a pool take their large storage from it and give it back when they end,
// so a second large body is read into the first one's memory; each still reads as its own body.
TEST(RequestBufferPool, LargeBodiesReuseOneBuffer) {
  RequestBufferPool pool(/*min_bytes=*/1024);
  const std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  const std::string large = GoFullModeBody(CompactNodes(6));  // several KB: from the pool
  const std::string small = R"({"NodeNames":["a"]})";
  const char* first_storage = nullptr;
  {
    RequestBuffer body(&pool);
    body.Reserve(large.size());
    body.Append(large.data(), large.size());
    first_storage = body.text().data();
    Result<ExtenderArgs> args = DecodeExtenderArgs(body);
    ASSERT_TRUE(args.ok()) << args.error();
    EXPECT_EQ(args->nodes->size(), 6u);
  }
  EXPECT_GE(pool.kept_bytes(), large.size());
  {
    // A smaller body in the kept (larger) storage: only its own bytes and the padding count.
    const std::string names =
        R"({"Pod":)" + pod + R"(,"NodeNames":["a","b"]})" + std::string(2000, ' ');
    RequestBuffer body(&pool);
    body.Reserve(names.size());
    body.Append(names.data(), names.size());
    EXPECT_EQ(body.text().data(), first_storage);
    const simdjson::padded_string_view view = body.View();
    EXPECT_EQ(view.size(), names.size());
    EXPECT_GE(view.padding(), simdjson::SIMDJSON_PADDING);
    Result<ExtenderArgs> args = DecodeExtenderArgs(body);
    ASSERT_TRUE(args.ok()) << args.error();
    EXPECT_EQ(args->node_names, (std::vector<std::string_view>{"a", "b"}));
  }
  {
    // Bodies under min_bytes never touch the pool.
    RequestBuffer body(&pool);
    body.Append(small.data(), small.size());
    EXPECT_NE(body.text().data(), first_storage);
    EXPECT_GE(pool.kept_bytes(), large.size());
  }
  {
    // Growing past the kept buffer: the body moves to new storage and arrives whole.
    RequestBuffer body(&pool);
    std::string grown;
    for (int i = 0; i < 3; ++i) {
      body.Append(large.data(), large.size());
      grown += large;
    }
    EXPECT_EQ(body.text(), grown);
  }
  EXPECT_GE(pool.kept_bytes(), 3 * large.size());
}

TEST(PreemptionArgs, DecodesTheNamesModeExample) {
  RequestBuffer body(Example("preempt-names-mode.json"));
  Result<ExtenderPreemptionArgs> args = DecodePreemptionArgs(body.View());
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_EQ(args->pod.name, "enclave-web-7d9f8");
  ASSERT_EQ(args->candidates.size(), 1u);
  EXPECT_EQ(args->candidates[0].node_name, "aks-sgxpool-0");
  EXPECT_EQ(args->candidates[0].victims.pod_uids, std::vector<std::string>{"0b5e-victim-uid-1"});
  EXPECT_EQ(args->candidates[0].victims.num_pdb_violations, 0);
}

TEST(PreemptionArgs, FullPodVictimsAreMatchedByMetadataUid) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  testing::PodSpec victim = testing::EpcPod("v", "victim-1", "20");
  victim.node_name = "n1";
  victim.phase = "Running";
  RequestBuffer body(
      testing::FullPreemptArgs(pod, {{"n1", {testing::PodJson(victim)}}, {"n2", {}}}));
  Result<ExtenderPreemptionArgs> args = DecodePreemptionArgs(body.View());
  ASSERT_TRUE(args.ok()) << args.error();
  ASSERT_EQ(args->candidates.size(), 2u);
  EXPECT_EQ(args->candidates[0].node_name, "n1");
  EXPECT_EQ(args->candidates[0].victims.pod_uids, std::vector<std::string>{"victim-1"});
  EXPECT_EQ(args->candidates[0].victims.num_pdb_violations, 1);
  EXPECT_TRUE(args->candidates[1].victims.pod_uids.empty());
}

TEST(PreemptionArgs, BadInput) {
  std::string pod = testing::PodJson(testing::EpcPod("p", "u1", "10"));
  const BadCase cases[] = {
      {R"({"NodeNameToMetaVictims": {}})", "\"Pod\" is missing"},
      {R"({"Pod": )" + pod + R"(, "NodeNameToMetaVictims": []})",
       "\"NodeNameToMetaVictims\" must be an object"},
      {R"({"Pod": )" + pod + R"(, "NodeNameToMetaVictims": {"n": {"Pods": [{"uid": 5}]}}})",
       "must be a string"},
      {R"({"Pod": )" + pod + R"(, "NodeNameToMetaVictims": {"n": {"Pods": [{}]}}})",
       "UID is missing"},
      {R"({"Pod": )" + pod + R"(, "NodeNameToVictims": {"n": {"Pods": [{"metadata": {}}]}}})",
       "has no metadata.uid"},
      {R"({"Pod": )" + pod + R"(, "NodeNameToVictims": {"n": {"NumPDBViolations": "x"}}})",
       "must be an integer"},
  };
  for (const BadCase& c : cases) {
    RequestBuffer body(c.body);
    auto args = DecodePreemptionArgs(body.View());
    ASSERT_FALSE(args.ok()) << "accepted: " << c.body;
    EXPECT_NE(args.error().find(c.error_part), std::string::npos) << args.error();
  }
}

TEST(BindingArgs, DecodesTheExample) {
  RequestBuffer body(Example("bind.json"));
  Result<ExtenderBindingArgs> args = DecodeBindingArgs(body.View());
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_EQ(args->pod_name, "enclave-web-7d9f8");
  EXPECT_EQ(args->pod_namespace, "default");
  EXPECT_EQ(args->pod_uid, "4e406cee-4eaa-79ff-4612-4904a5c295d5");
  EXPECT_EQ(args->node, "aks-sgxpool-0");
}

TEST(BindingArgs, CasingAndMissingFields) {
  RequestBuffer ok(R"({"podname": "a", "PODNAMESPACE": "b", "podUID": "c", "node": "d"})");
  Result<ExtenderBindingArgs> args = DecodeBindingArgs(ok.View());
  ASSERT_TRUE(args.ok()) << args.error();
  EXPECT_EQ(args->pod_uid, "c");
  RequestBuffer missing(R"({"PodName": "a", "PodNamespace": "b", "PodUID": "c"})");
  auto bad = DecodeBindingArgs(missing.View());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "\"Node\" is missing");
  RequestBuffer wrong(R"({"PodName": 1})");
  bad = DecodeBindingArgs(wrong.View());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "\"PodName\" must be a string");
}

TEST(KeyIs, FoldsAsciiCaseOnly) {
  EXPECT_TRUE(KeyIs("nodenames", "NodeNames"));
  EXPECT_TRUE(KeyIs("NODENAMES", "NodeNames"));
  EXPECT_FALSE(KeyIs("NodeName", "NodeNames"));
  EXPECT_FALSE(KeyIs("Node_Names", "NodeNames"));
}

}  // namespace
}  // namespace epc
