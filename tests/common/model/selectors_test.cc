#include "common/model/selectors.h"

#include <string>

#include <gtest/gtest.h>

namespace epc {
namespace {

SelectorRequirement Req(std::string key, std::string op, std::vector<std::string> values = {}) {
  return SelectorRequirement{std::move(key), std::move(op), std::move(values)};
}

const Labels kLabels = {{"pool", "sgx"}, {"zone", "eu-1"}, {"epc-mib", "168"}, {"empty", ""}};

TEST(SelectorsTest, In) {
  EXPECT_TRUE(Matches(Req("pool", "In", {"sgx"}), kLabels));
  EXPECT_TRUE(Matches(Req("pool", "In", {"general", "sgx"}), kLabels));
  EXPECT_FALSE(Matches(Req("pool", "In", {"general"}), kLabels));
  EXPECT_FALSE(Matches(Req("absent", "In", {"sgx"}), kLabels));
  EXPECT_TRUE(Matches(Req("empty", "In", {""}), kLabels));
  EXPECT_FALSE(Matches(Req("pool", "In", {"SGX"}), kLabels));  // case-sensitive
  EXPECT_FALSE(Matches(Req("pool", "In", {}), kLabels));       // invalid: matches nothing
}

TEST(SelectorsTest, NotIn) {
  EXPECT_FALSE(Matches(Req("pool", "NotIn", {"sgx"}), kLabels));
  EXPECT_TRUE(Matches(Req("pool", "NotIn", {"general"}), kLabels));
  EXPECT_TRUE(Matches(Req("absent", "NotIn", {"sgx"}), kLabels));  // absent key matches
  EXPECT_FALSE(Matches(Req("pool", "NotIn", {"a", "sgx"}), kLabels));
  EXPECT_FALSE(Matches(Req("absent", "NotIn", {}), kLabels));  // invalid
}

TEST(SelectorsTest, ExistsAndDoesNotExist) {
  EXPECT_TRUE(Matches(Req("pool", "Exists"), kLabels));
  EXPECT_TRUE(Matches(Req("empty", "Exists"), kLabels));
  EXPECT_FALSE(Matches(Req("absent", "Exists"), kLabels));
  EXPECT_FALSE(Matches(Req("pool", "DoesNotExist"), kLabels));
  EXPECT_TRUE(Matches(Req("absent", "DoesNotExist"), kLabels));
  EXPECT_TRUE(Matches(Req("anything", "DoesNotExist"), Labels{}));
  // With values these are invalid and match nothing.
  EXPECT_FALSE(Matches(Req("pool", "Exists", {"sgx"}), kLabels));
  EXPECT_FALSE(Matches(Req("absent", "DoesNotExist", {"x"}), kLabels));
}

TEST(SelectorsTest, GtAndLt) {
  EXPECT_TRUE(Matches(Req("epc-mib", "Gt", {"100"}), kLabels));
  EXPECT_FALSE(Matches(Req("epc-mib", "Gt", {"168"}), kLabels));
  EXPECT_FALSE(Matches(Req("epc-mib", "Gt", {"200"}), kLabels));
  EXPECT_TRUE(Matches(Req("epc-mib", "Lt", {"200"}), kLabels));
  EXPECT_FALSE(Matches(Req("epc-mib", "Lt", {"168"}), kLabels));
  EXPECT_TRUE(Matches(Req("epc-mib", "Gt", {"-5"}), kLabels));
  EXPECT_TRUE(Matches(Req("n", "Lt", {"0"}), Labels{{"n", "-3"}}));
  EXPECT_TRUE(Matches(Req("n", "Gt", {"0"}), Labels{{"n", "+3"}}));
  // Integer comparison, not string comparison.
  EXPECT_TRUE(Matches(Req("n", "Gt", {"9"}), Labels{{"n", "10"}}));
  // Non-integers, absent keys and bad requirements match nothing.
  EXPECT_FALSE(Matches(Req("pool", "Gt", {"1"}), kLabels));
  EXPECT_FALSE(Matches(Req("pool", "Lt", {"1"}), kLabels));
  EXPECT_FALSE(Matches(Req("n", "Gt", {"1"}), Labels{{"n", "1.5"}}));
  EXPECT_FALSE(Matches(Req("n", "Gt", {"1"}), Labels{{"n", ""}}));
  EXPECT_FALSE(Matches(Req("n", "Gt", {"1"}), Labels{{"n", "99999999999999999999"}}));
  EXPECT_FALSE(Matches(Req("absent", "Gt", {"1"}), kLabels));
  EXPECT_FALSE(Matches(Req("absent", "Lt", {"1"}), kLabels));
  EXPECT_FALSE(Matches(Req("epc-mib", "Gt", {"abc"}), kLabels));
  EXPECT_FALSE(Matches(Req("epc-mib", "Gt", {}), kLabels));
  EXPECT_FALSE(Matches(Req("epc-mib", "Gt", {"1", "2"}), kLabels));
  EXPECT_TRUE(
      Matches(Req("n", "Lt", {"9223372036854775807"}), Labels{{"n", "-9223372036854775808"}}));
}

TEST(SelectorsTest, UnknownOperatorMatchesNothing) {
  EXPECT_FALSE(Matches(Req("pool", "Equals", {"sgx"}), kLabels));
  EXPECT_FALSE(Matches(Req("pool", "in", {"sgx"}), kLabels));
  EXPECT_FALSE(Matches(Req("pool", "", {"sgx"}), kLabels));
}

TEST(SelectorsTest, LabelSelector) {
  EXPECT_TRUE(Matches(LabelSelector{}, kLabels));
  EXPECT_TRUE(Matches(LabelSelector{}, Labels{}));

  LabelSelector by_label{{{"pool", "sgx"}}, {}};
  EXPECT_TRUE(Matches(by_label, kLabels));
  EXPECT_FALSE(Matches(by_label, Labels{{"pool", "general"}}));
  EXPECT_FALSE(Matches(by_label, Labels{}));

  LabelSelector both{{{"pool", "sgx"}, {"zone", "eu-1"}}, {Req("epc-mib", "Exists")}};
  EXPECT_TRUE(Matches(both, kLabels));
  Labels other_zone = kLabels;
  other_zone["zone"] = "us-1";
  EXPECT_FALSE(Matches(both, other_zone));
  Labels no_epc = kLabels;
  no_epc.erase("epc-mib");
  EXPECT_FALSE(Matches(both, no_epc));

  LabelSelector expressions{{}, {Req("pool", "In", {"sgx"}), Req("gpu", "DoesNotExist")}};
  EXPECT_TRUE(Matches(expressions, kLabels));
  Labels with_gpu = kLabels;
  with_gpu["gpu"] = "true";
  EXPECT_FALSE(Matches(expressions, with_gpu));

  LabelSelector empty_value{{{"empty", ""}}, {}};
  EXPECT_TRUE(Matches(empty_value, kLabels));
  EXPECT_FALSE(Matches(empty_value, Labels{}));
}

Node MakeNode(std::string name, Labels labels) {
  Node n;
  n.name = std::move(name);
  n.labels = std::move(labels);
  return n;
}

TEST(SelectorsTest, NodeSelectorTerms) {
  Node node = MakeNode("sgx-1", kLabels);
  EXPECT_TRUE(MatchesAnyTerm({}, node));  // no terms: no constraint

  NodeSelectorTerm sgx{{Req("pool", "In", {"sgx"})}, {}};
  NodeSelectorTerm general{{Req("pool", "In", {"general"})}, {}};
  EXPECT_TRUE(MatchesAnyTerm({sgx}, node));
  EXPECT_FALSE(MatchesAnyTerm({general}, node));
  EXPECT_TRUE(MatchesAnyTerm({general, sgx}, node));  // ORed

  NodeSelectorTerm and_term{{Req("pool", "In", {"sgx"}), Req("zone", "In", {"us-1"})}, {}};
  EXPECT_FALSE(MatchesAnyTerm({and_term}, node));  // ANDed within a term

  // An empty term matches nothing, even next to nothing else.
  EXPECT_FALSE(MatchesAnyTerm({NodeSelectorTerm{}}, node));
  EXPECT_TRUE(MatchesAnyTerm({NodeSelectorTerm{}, sgx}, node));

  NodeSelectorTerm gt{{Req("epc-mib", "Gt", {"64"})}, {}};
  EXPECT_TRUE(MatchesAnyTerm({gt}, node));
}

TEST(SelectorsTest, MatchFieldsKnowsMetadataName) {
  Node node = MakeNode("sgx-1", kLabels);
  NodeSelectorTerm by_name{{}, {Req("metadata.name", "In", {"sgx-1"})}};
  EXPECT_TRUE(MatchesAnyTerm({by_name}, node));
  EXPECT_FALSE(MatchesAnyTerm({by_name}, MakeNode("sgx-2", kLabels)));

  NodeSelectorTerm not_name{{}, {Req("metadata.name", "NotIn", {"sgx-1"})}};
  EXPECT_FALSE(MatchesAnyTerm({not_name}, node));
  EXPECT_TRUE(MatchesAnyTerm({not_name}, MakeNode("sgx-2", kLabels)));

  // Fields and expressions are ANDed.
  NodeSelectorTerm both{{Req("pool", "In", {"general"})}, {Req("metadata.name", "In", {"sgx-1"})}};
  EXPECT_FALSE(MatchesAnyTerm({both}, node));
  NodeSelectorTerm both_ok{{Req("pool", "In", {"sgx"})}, {Req("metadata.name", "In", {"sgx-1"})}};
  EXPECT_TRUE(MatchesAnyTerm({both_ok}, node));

  // Other fields, and other operators on fields, match nothing.
  NodeSelectorTerm other_field{{}, {Req("metadata.namespace", "NotIn", {"x"})}};
  EXPECT_FALSE(MatchesAnyTerm({other_field}, node));
  NodeSelectorTerm exists_field{{}, {Req("metadata.name", "Exists")}};
  EXPECT_FALSE(MatchesAnyTerm({exists_field}, node));
  // Labels do not leak into fields.
  NodeSelectorTerm label_as_field{{}, {Req("pool", "In", {"sgx"})}};
  EXPECT_FALSE(MatchesAnyTerm({label_as_field}, node));
}

TEST(SelectorsTest, ValidateRequirement) {
  EXPECT_TRUE(ValidateRequirement(Req("a", "In", {"x"}), false).ok());
  EXPECT_TRUE(ValidateRequirement(Req("a", "NotIn", {"x", "y"}), false).ok());
  EXPECT_TRUE(ValidateRequirement(Req("a", "Exists"), false).ok());
  EXPECT_TRUE(ValidateRequirement(Req("a", "DoesNotExist"), false).ok());
  EXPECT_TRUE(ValidateRequirement(Req("a", "Gt", {"5"}), true).ok());
  EXPECT_TRUE(ValidateRequirement(Req("a", "Lt", {"-5"}), true).ok());
  Result<bool> ok = ValidateRequirement(Req("a", "In", {"x"}), true);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(*ok);

  auto error = [](const SelectorRequirement& r, bool node_selector) {
    Result<bool> v = ValidateRequirement(r, node_selector);
    return v.ok() ? std::string("ok") : v.error();
  };
  EXPECT_EQ(error(Req("a", "In"), false),
            "selector requirement on key \"a\": operator In needs at least one value");
  EXPECT_EQ(error(Req("a", "NotIn"), true),
            "selector requirement on key \"a\": operator NotIn needs at least one value");
  EXPECT_EQ(error(Req("a", "Exists", {"x"}), false),
            "selector requirement on key \"a\": operator Exists takes no values");
  EXPECT_EQ(error(Req("a", "DoesNotExist", {"x"}), true),
            "selector requirement on key \"a\": operator DoesNotExist takes no values");
  EXPECT_EQ(error(Req("a", "Gt", {"5"}), false),
            "selector requirement on key \"a\": operator Gt is only valid in node selectors");
  EXPECT_EQ(error(Req("a", "Lt", {}), true),
            "selector requirement on key \"a\": operator Lt needs exactly one integer value");
  EXPECT_EQ(error(Req("a", "Lt", {"1", "2"}), true),
            "selector requirement on key \"a\": operator Lt needs exactly one integer value");
  EXPECT_EQ(error(Req("a", "Gt", {"1.5"}), true),
            "selector requirement on key \"a\": operator Gt needs exactly one integer value");
  EXPECT_EQ(error(Req("a", "Equals", {"x"}), true),
            "selector requirement on key \"a\": unknown operator \"Equals\"");
  EXPECT_EQ(error(Req("a", "", {"x"}), false),
            "selector requirement on key \"a\": unknown operator \"\"");
  EXPECT_EQ(error(Req("", "Exists"), false), "selector requirement on key \"\": key is empty");
}

}  // namespace
}  // namespace epc
