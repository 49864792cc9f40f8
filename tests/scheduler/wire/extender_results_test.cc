#include "scheduler/wire/extender_results.h"

#include <gtest/gtest.h>

#include <limits>

#include <nlohmann/json.hpp>

namespace epc {
namespace {

using nlohmann::json;

TEST(FilterResult, FullModeReturnsTheNodesAsReceived) {
  FilterAnswer answer;
  answer.names_mode = false;
  answer.passing_nodes_json = {R"({"metadata": {"name": "a"}, "x": [1, 2.50]})",
                               R"({"metadata":{"name":"b"}})"};
  answer.failed = {{"c", "insufficient EPC: requested 10 MiB, free 4 MiB of 168 MiB"}};
  answer.unresolvable = {{"d", "pod requests 10 MiB of EPC but the node advertises no EPC"}};
  std::string text = EncodeFilterResult(answer);
  // Byte for byte: the items are not re-serialized (2.50 stays 2.50).
  EXPECT_NE(
      text.find(
          R"("items":[{"metadata": {"name": "a"}, "x": [1, 2.50]},{"metadata":{"name":"b"}}])"),
      std::string::npos)
      << text;
  json j = json::parse(text);
  EXPECT_EQ(j["Nodes"]["items"].size(), 2u);
  EXPECT_EQ(j["Nodes"]["items"][1]["metadata"]["name"], "b");
  EXPECT_TRUE(j["Nodes"]["metadata"].is_object());
  EXPECT_TRUE(j["NodeNames"].is_null());
  EXPECT_EQ(j["FailedNodes"]["c"], "insufficient EPC: requested 10 MiB, free 4 MiB of 168 MiB");
  EXPECT_EQ(j["FailedAndUnresolvableNodes"].size(), 1u);
  EXPECT_EQ(j["Error"], "");
}

TEST(FilterResult, NamesModeAnswersNodeNames) {
  FilterAnswer answer;
  answer.names_mode = true;
  answer.passing_node_names = {"a", "b"};
  json j = json::parse(EncodeFilterResult(answer));
  EXPECT_TRUE(j["Nodes"].is_null());
  EXPECT_EQ(j["NodeNames"], json({"a", "b"}));
  EXPECT_TRUE(j["FailedNodes"].is_object());
  EXPECT_TRUE(j["FailedNodes"].empty());
  EXPECT_TRUE(j["FailedAndUnresolvableNodes"].empty());
}

TEST(FilterResult, EmptyAnswersAreStillWellFormed) {
  FilterAnswer full;
  EXPECT_EQ(
      EncodeFilterResult(full),
      R"({"Nodes":{"metadata":{},"items":[]},"NodeNames":null,"FailedNodes":{},"FailedAndUnresolvableNodes":{},"Error":""})");
  FilterAnswer names;
  names.names_mode = true;
  EXPECT_EQ(
      EncodeFilterResult(names),
      R"({"Nodes":null,"NodeNames":[],"FailedNodes":{},"FailedAndUnresolvableNodes":{},"Error":""})");
}

TEST(JsonString, EscapesEverythingJsonNeeds) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\nd\te\x01\x1f/\xc3\xa9", 14));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f/\xc3\xa9\"");
  EXPECT_EQ(json::parse(out).get<std::string>(), std::string("a\"b\\c\nd\te\x01\x1f/\xc3\xa9", 14));
}

TEST(JsonString, InvalidUtf8BecomesReplacementCharacters) {
  std::string out;
  AppendJsonString(out, std::string("x\xff\xc3y\xed\xa0\x80", 7));  // stray, truncated, surrogate
  json parsed = json::parse(out);                                   // would throw on invalid UTF-8
  EXPECT_EQ(parsed.get<std::string>().substr(0, 1), "x");
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);
}

// Plain runs are copied eight bytes at a time: every byte that needs escaping, at every offset
// of a long string, is escaped as the byte-by-byte reference does.
TEST(JsonString, LongRunsWithEscapesAtEveryOffset) {
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c < 0x20 && c != '\n') {
        const char* hex = "0123456789abcdef";
        out += c == '\r'   ? std::string("\\r")
               : c == '\t' ? std::string("\\t")
               : c == '\b' ? std::string("\\b")
               : c == '\f' ? std::string("\\f")
                           : std::string("\\u00") + hex[c >> 4] + hex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  const std::string base = "insufficient EPC: requested 10 MiB, free 8 MiB of 168 MiB";
  for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', ' ', '~', '\t'}) {
    for (size_t at = 0; at < base.size(); ++at) {
      std::string s = base;
      s[at] = special;
      std::string out;
      AppendJsonString(out, s);
      EXPECT_EQ(out, reference(s)) << static_cast<int>(special) << " at " << at;
    }
  }
  // Every length up to 40 (the plain check reads 16, 8 and single bytes, tails overlapping),
  // with one special byte at every offset, appended after earlier text.
  for (size_t len = 0; len <= 40; ++len) {
    const std::string plain = base.substr(0, len);
    std::string out = "x";
    AppendJsonString(out, plain);
    EXPECT_EQ(out, "x" + reference(plain)) << len;
    for (size_t at = 0; at < len; ++at) {
      for (char special : {'"', '\\', '\x01', '\x1f'}) {
        std::string s = plain;
        s[at] = special;
        out = "x";
        AppendJsonString(out, s);
        EXPECT_EQ(out, "x" + reference(s)) << len << " " << at;
      }
      std::string s = plain;
      s[at] = '\x80';  // a stray continuation byte
      out.clear();
      AppendJsonString(out, s);
      EXPECT_EQ(json::parse(out).get<std::string>(),
                plain.substr(0, at) + "\xef\xbf\xbd" + plain.substr(at + 1));
    }
  }
  std::string out;
  AppendJsonString(out, base + "\xc3\xa9" + base);  // UTF-8 after a long run
  EXPECT_EQ(json::parse(out).get<std::string>(), base + "\xc3\xa9" + base);
}

TEST(Priorities, BareArrayOfHostAndScore) {
  EXPECT_EQ(EncodePriorities({{"a", 10}, {"b\"", 0}}),
            R"([{"Host":"a","Score":10},{"Host":"b\"","Score":0}])");
  EXPECT_EQ(EncodePriorities({}), "[]");
}

// Plain hosts are written in one piece, others escaped: the same JSON either way, in any mix.
TEST(Priorities, PlainAndEscapedHostsAndAnyScore) {
  const std::string long_name = "aks-confpool-12345678-vmss000123";
  const std::vector<HostPriority> hosts = {{long_name, 10},
                                           {"", 0},
                                           {"tab\there", -3},
                                           {"\xc3\xa9t\xc3\xa9", 9223372036854775807LL},
                                           {"bad\xff", -9223372036854775807LL - 1},
                                           {"n", 7}};
  std::string expected = "[";
  for (const HostPriority& h : hosts) {
    if (expected.size() > 1) expected += ',';
    expected += "{\"Host\":";
    AppendJsonString(expected, h.host);
    expected += ",\"Score\":" + std::to_string(h.score) + "}";
  }
  expected += "]";
  EXPECT_EQ(EncodePriorities(hosts), expected);
  const json parsed = json::parse(EncodePriorities(hosts));
  EXPECT_EQ(parsed[0]["Host"], long_name);
  EXPECT_EQ(parsed[3]["Score"], 9223372036854775807LL);
}

// The encoders size the answer for plain strings up front; strings that escape to six times
// their length, and the widest scores, overrun that estimate many times over and must still
// come out whole.
TEST(Priorities, AnswersFarLargerThanTheirEstimateAreWhole) {
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i) names.push_back(std::string(40, '\x01') + std::to_string(i));
  std::vector<HostPriority> hosts;
  std::string expected = "[";
  for (const std::string& name : names) {
    hosts.push_back({name, std::numeric_limits<int64_t>::min()});
    if (expected.size() > 1) expected += ',';
    expected += "{\"Host\":";
    AppendJsonString(expected, name);
    expected += ",\"Score\":" + std::to_string(std::numeric_limits<int64_t>::min()) + "}";
  }
  expected += "]";
  EXPECT_EQ(EncodePriorities(hosts), expected);
}

TEST(FilterResult, AnswersFarLargerThanTheirEstimateAreWhole) {
  FilterAnswer answer;
  answer.names_mode = true;
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back(std::string(30, '\n') + std::to_string(i));
  const std::string reason(50, '"');
  for (size_t i = 0; i < names.size(); ++i) {
    if (i % 3 == 0) answer.passing_node_names.push_back(names[i]);
    if (i % 3 == 1) answer.failed.emplace_back(names[i], reason);
    if (i % 3 == 2) answer.unresolvable.emplace_back(names[i], reason);
  }
  answer.error = std::string(100, '\\');
  const json parsed = json::parse(EncodeFilterResult(answer));
  ASSERT_EQ(parsed["NodeNames"].size(), 100u);
  EXPECT_EQ(parsed["NodeNames"][99], names[297]);
  ASSERT_EQ(parsed["FailedNodes"].size(), 100u);
  EXPECT_EQ(parsed["FailedNodes"][names[298]], reason);
  ASSERT_EQ(parsed["FailedAndUnresolvableNodes"].size(), 100u);
  EXPECT_EQ(parsed["FailedAndUnresolvableNodes"][names[299]], reason);
  EXPECT_EQ(parsed["Error"], answer.error);
  EXPECT_TRUE(parsed["Nodes"].is_null());
}

// Many nodes share a few reason strings (views of the same text); each is encoded the same
// every time, and a different string with equal text or a prefix is not mistaken for it.
TEST(FilterResult, SharedReasonsEncodeAsEach) {
  FilterAnswer answer;
  answer.names_mode = true;
  const std::string_view a = answer.Keep("insufficient EPC: \"quoted\"");
  const std::string_view b = answer.Keep("no EPC");
  const std::string_view b2 = answer.Keep("no EPC");
  const std::string_view prefix = a.substr(0, 5);
  std::vector<std::string_view> reasons;
  for (int i = 0; i < 12; ++i) {
    for (std::string_view r : {a, b, b2, prefix}) reasons.push_back(r);
  }
  json expected = json::object();
  for (size_t i = 0; i < reasons.size(); ++i) {
    const std::string name = "node-" + std::to_string(i);
    answer.failed.emplace_back(answer.Keep(name), reasons[i]);
    expected[name] = std::string(reasons[i]);
  }
  const json parsed = json::parse(EncodeFilterResult(answer));
  EXPECT_EQ(parsed["FailedNodes"], expected);
}

TEST(Preemption, MetaVictims) {
  std::string text = EncodePreemptionResult({{"n1", {"u1", "u2"}, 1}, {"n2", {}, 0}});
  EXPECT_EQ(
      text,
      R"({"NodeNameToMetaVictims":{"n1":{"Pods":[{"UID":"u1"},{"UID":"u2"}],"NumPDBViolations":1},)"
      R"("n2":{"Pods":[],"NumPDBViolations":0}}})");
  EXPECT_EQ(EncodePreemptionResult({}), R"({"NodeNameToMetaVictims":{}})");
}

TEST(Binding, ErrorField) {
  EXPECT_EQ(EncodeBindingResult(""), R"({"Error":""})");
  EXPECT_EQ(EncodeBindingResult("no \"x\""), R"({"Error":"no \"x\""})");
  EXPECT_EQ(EncodeErrorBody("bad"), R"({"error":"bad"})");
}

}  // namespace
}  // namespace epc
