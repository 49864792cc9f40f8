#include "common/model/quantity.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epc {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

Quantity Q(const std::string& text) {
  Result<Quantity> r = Quantity::Parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? *r : Quantity();
}

std::string ParseError(const std::string& text) {
  Result<Quantity> r = Quantity::Parse(text);
  if (r.ok()) return "parsed as " + r->ToString();
  return r.error();
}

// The exact value, in the canonical text (integer units, else milli, else nano).
std::string Exact(const std::string& text) { return Q(text).ToString(); }

TEST(QuantityTest, PlainIntegers) {
  EXPECT_EQ(Q("0").Value(), 0);
  EXPECT_EQ(Q("1").Value(), 1);
  EXPECT_EQ(Q("128").Value(), 128);
  EXPECT_EQ(Q("+5").Value(), 5);
  EXPECT_EQ(Q("-5").Value(), -5);
  EXPECT_EQ(Q("007").Value(), 7);
  EXPECT_EQ(Q("168").MilliValue(), 168000);
}

TEST(QuantityTest, DecimalSuffixes) {
  EXPECT_EQ(Exact("1n"), "1n");
  EXPECT_EQ(Exact("1u"), "1000n");
  EXPECT_EQ(Exact("1m"), "1m");
  EXPECT_EQ(Exact("500m"), "500m");
  EXPECT_EQ(Q("1k").Value(), 1000);
  EXPECT_EQ(Q("1M").Value(), 1'000'000);
  EXPECT_EQ(Q("100M").Value(), 100'000'000);
  EXPECT_EQ(Q("1G").Value(), 1'000'000'000);
  EXPECT_EQ(Q("1T").Value(), 1'000'000'000'000);
  EXPECT_EQ(Q("1P").Value(), 1'000'000'000'000'000);
  EXPECT_EQ(Q("1E").Value(), 1'000'000'000'000'000'000);
  EXPECT_EQ(Q("5u").MilliValue(), 1);  // 0.005m rounds up
  EXPECT_EQ(Q("250m").MilliValue(), 250);
}

TEST(QuantityTest, BinarySuffixes) {
  EXPECT_EQ(Q("1Ki").Value(), 1024);
  EXPECT_EQ(Q("1Mi").Value(), 1048576);
  EXPECT_EQ(Q("1Gi").Value(), 1073741824);
  EXPECT_EQ(Q("1Ti").Value(), 1099511627776);
  EXPECT_EQ(Q("1Pi").Value(), 1125899906842624);
  EXPECT_EQ(Q("1Ei").Value(), 1152921504606846976);
  EXPECT_EQ(Q("128Mi").Value(), 134217728);
  EXPECT_EQ(Q("64Mi").Value(), 67108864);
  EXPECT_EQ(Q("7Ei").Value(), 8070450532247928832);
  EXPECT_EQ(Q("8Ei").Value(), kInt64Max);  // 2^63 saturates
}

TEST(QuantityTest, Fractions) {
  EXPECT_EQ(Q("0.5Gi").Value(), 536870912);
  EXPECT_EQ(Q(".5Mi").Value(), 524288);
  EXPECT_EQ(Q("1.5Ki").Value(), 1536);
  EXPECT_EQ(Exact(".5"), "500m");
  EXPECT_EQ(Exact("5."), "5");
  EXPECT_EQ(Exact("5.m"), "5m");
  EXPECT_EQ(Exact("0.5"), "500m");
  EXPECT_EQ(Exact("1.25"), "1250m");
  EXPECT_EQ(Exact("1.1Ki"), "1126400m");
  EXPECT_EQ(Exact("0.3Mi"), "314572800m");
  EXPECT_EQ(Exact("1.5Ei"), "1729382256910270464");
  EXPECT_EQ(Q("1.23456789012Gi").ToString(), "1325607178189280379n");
  EXPECT_EQ(Q("1.1Ki").Value(), 1127);
  // Trailing and leading zeros do not count against the range.
  EXPECT_EQ(Exact("1.000000000000000000000000000000000000000000000000"), "1");
  EXPECT_EQ(Exact("0000000000000000000000000000000000000000000000000001"), "1");
  EXPECT_EQ(Exact("100000000000000000000.000000000000000000000000000000000000000000e-20"), "1");
}

TEST(QuantityTest, ValueRoundsUp) {
  EXPECT_EQ(Q("1.5").Value(), 2);  // 1.5 bytes is 2 bytes
  EXPECT_EQ(Q("1.5").MilliValue(), 1500);
  EXPECT_EQ(Q("0.1").Value(), 1);
  EXPECT_EQ(Q("1500m").Value(), 2);
  EXPECT_EQ(Q("1000m").Value(), 1);
  EXPECT_EQ(Q("1001m").Value(), 2);
  EXPECT_EQ(Q("1n").Value(), 1);
  EXPECT_EQ(Q("0.0001").MilliValue(), 1);
  EXPECT_EQ(Q("1n").MilliValue(), 1);
  EXPECT_EQ(Q("1000000n").MilliValue(), 1);
  EXPECT_EQ(Q("1000001n").MilliValue(), 2);
  EXPECT_EQ(Q("0").Value(), 0);
  EXPECT_EQ(Q("0").MilliValue(), 0);
}

TEST(QuantityTest, NegativeValuesRoundAwayFromZeroLikeKubernetes) {
  EXPECT_EQ(Q("-1.5").Value(), -2);
  EXPECT_EQ(Q("-1500m").Value(), -2);
  EXPECT_EQ(Q("-1.5").MilliValue(), -1500);
  EXPECT_EQ(Q("-1n").MilliValue(), -1);
  EXPECT_EQ(Q("-0.5Gi").Value(), -536870912);
  EXPECT_TRUE(Q("-1m").IsNegative());
}

TEST(QuantityTest, Exponents) {
  EXPECT_EQ(Q("1e3").Value(), 1000);
  EXPECT_EQ(Q("1E3").Value(), 1000);
  EXPECT_EQ(Q("1e+3").Value(), 1000);
  EXPECT_EQ(Q("1e0").Value(), 1);
  EXPECT_EQ(Q("1e-0").Value(), 1);
  EXPECT_EQ(Q("1e9").Value(), 1'000'000'000);
  EXPECT_EQ(Q("1.5e3").Value(), 1500);
  EXPECT_EQ(Q("1e18").Value(), 1'000'000'000'000'000'000);
  EXPECT_EQ(Exact("1e-3"), "1m");
  EXPECT_EQ(Exact("12e-1"), "1200m");
  EXPECT_EQ(Exact("1e-9"), "1n");
  EXPECT_EQ(Exact("1E-2"), "10m");
  EXPECT_EQ(Exact("25e-2"), "250m");
  EXPECT_EQ(Exact(".5e1"), "5");
  EXPECT_EQ(Exact("5.e-1"), "500m");
  // "E" alone is exa, "E" with digits an exponent.
  EXPECT_EQ(Q("2E").Value(), 2'000'000'000'000'000'000);
  EXPECT_EQ(Q("2E2").Value(), 200);
  EXPECT_EQ(Exact("1e-10"), "1n");  // below 1n: rounds up
  EXPECT_EQ(Exact("1e-9223372036854775808"), "1n");
  EXPECT_TRUE(Q("0e9223372036854775807").IsZero());
}

TEST(QuantityTest, NanoRoundingUp) {
  EXPECT_EQ(Exact("0.0000000001"), "1n");
  EXPECT_EQ(Exact("0.0000000015"), "2n");
  EXPECT_EQ(Exact("0.0000000010"), "1n");
  EXPECT_EQ(Exact("1.0000000001"), "1000000001n");
  EXPECT_EQ(Exact("0.1n"), "1n");
  EXPECT_EQ(Exact("0.5n"), "1n");
  EXPECT_EQ(Exact("1.5n"), "2n");
  EXPECT_EQ(Exact("1.0001u"), "1001n");
  EXPECT_EQ(Exact("0.00000000000000000000000000000000000000000000001"), "1n");
  // Kubernetes rounds the magnitude up: negative values move away from zero.
  EXPECT_EQ(Exact("-0.0000000001"), "-1n");
  EXPECT_EQ(Exact("-1.5n"), "-2n");
}

TEST(QuantityTest, BinaryFractionsRoundOnlyWhenInexact) {
  EXPECT_EQ(Exact("0.0000000001Ki"), "103n");         // 102.4n
  EXPECT_EQ(Exact("0.0000000005Ki"), "512n");         // exactly 512n
  EXPECT_EQ(Exact("0.0000000000009765625Ki"), "1n");  // exactly 1n
  EXPECT_EQ(Exact("0.0000000000009765626Ki"), "2n");
  EXPECT_EQ(Exact("0.000000000000000000001Ei"), "1152922n");
  EXPECT_EQ(Exact("0.0000000000000000001Ei"), "115292151n");
  EXPECT_EQ(Exact("0.00000000000000000001Ei"), "11529216n");
  EXPECT_EQ(Exact("0.000000000000000000000000000001Ei"), "1n");
  EXPECT_EQ(Exact("0.001Ki"), "1024m");
}

TEST(QuantityTest, Zero) {
  for (const char* text :
       {"0", "-0", "+0", "0.0", ".0", "0.", "0Ei", "0e99999", "000m", "-0.000n"}) {
    Quantity q = Q(text);
    EXPECT_TRUE(q.IsZero()) << text;
    EXPECT_FALSE(q.IsNegative()) << text;
    EXPECT_EQ(q.ToString(), "0") << text;
  }
  EXPECT_FALSE(Q("1n").IsZero());
}

TEST(QuantityTest, SaturatesAtInt64Range) {
  EXPECT_EQ(Q("9223372036854775807").Value(), kInt64Max);
  EXPECT_EQ(Q("9223372036854775808").Value(), kInt64Max);
  EXPECT_EQ(Q("-9223372036854775808").Value(), kInt64Min);
  EXPECT_EQ(Q("-9223372036854775809").Value(), kInt64Min);
  EXPECT_EQ(Q("1e19").Value(), kInt64Max);
  EXPECT_EQ(Q("-1e28").Value(), kInt64Min);
  EXPECT_EQ(Q("1e29").Value(), kInt64Max);
  EXPECT_EQ(Q("9223372036854775").MilliValue(), 9223372036854775000);
  EXPECT_EQ(Q("1e16").MilliValue(), kInt64Max);
  EXPECT_EQ(Q("-1e16").MilliValue(), kInt64Min);
  // The exact value survives beyond int64.
  EXPECT_EQ(Exact("1e20"), "100000000000000000000");
  EXPECT_GT(Q("1e20"), Q("1e19"));
}

TEST(QuantityTest, OverflowIsAnError) {
  const std::string int128_max = "170141183460469231731687303715884105727";
  EXPECT_EQ(Q(int128_max + "n").ToString(), int128_max + "n");
  EXPECT_EQ(Q("-" + int128_max + "n").ToString(), "-" + int128_max + "n");
  EXPECT_EQ(ParseError("170141183460469231731687303715884105728n"),
            "quantity \"170141183460469231731687303715884105728n\": value out of range");
  EXPECT_EQ(ParseError("2e29"), "quantity \"2e29\": value out of range");
  EXPECT_EQ(ParseError("1e39"), "quantity \"1e39\": value out of range");
  EXPECT_EQ(ParseError("1e9223372036854775807"),
            "quantity \"1e9223372036854775807\": value out of range");
  EXPECT_EQ(ParseError("-1e9223372036854775807"),
            "quantity \"-1e9223372036854775807\": value out of range");
  EXPECT_EQ(ParseError("100000000000000000000Ei"),
            "quantity \"100000000000000000000Ei\": value out of range");
  EXPECT_EQ(ParseError("99999999999999999999999999999999999999999999999999"),
            "quantity \"99999999999999999999999999999999999999999999999999\": value out of range");
  EXPECT_EQ(ParseError("99999999999999999999999999999999999999999.5m"),
            "quantity \"99999999999999999999999999999999999999999.5m\": value out of range");
  EXPECT_EQ(ParseError("1e9223372036854775808"),
            "quantity \"1e9223372036854775808\": exponent out of range");
  EXPECT_EQ(ParseError("1e-9223372036854775809"),
            "quantity \"1e-9223372036854775809\": exponent out of range");
  EXPECT_EQ(ParseError("1e99999999999999999999999999"),
            "quantity \"1e99999999999999999999999999\": exponent out of range");
  // Largest values that still fit.
  EXPECT_TRUE(Quantity::Parse("1e29").ok());
  EXPECT_TRUE(Quantity::Parse("147573952589Ei").ok());  // ~1.7e29 units
  EXPECT_FALSE(Quantity::Parse("147573952590Ei").ok());
}

TEST(QuantityTest, MalformedInputQuotesTheInput) {
  EXPECT_EQ(ParseError(""), "quantity \"\": empty");
  EXPECT_EQ(ParseError("12Qi"), "quantity \"12Qi\": unknown suffix \"Qi\"");
  EXPECT_EQ(ParseError("1.2.3"), "quantity \"1.2.3\": more than one decimal point");
  EXPECT_EQ(ParseError("1..2"), "quantity \"1..2\": more than one decimal point");
  EXPECT_EQ(ParseError(" 1"), "quantity \" 1\": contains whitespace");
  EXPECT_EQ(ParseError("1 "), "quantity \"1 \": contains whitespace");
  EXPECT_EQ(ParseError("1 Mi"), "quantity \"1 Mi\": contains whitespace");
  EXPECT_EQ(ParseError("1\t"), "quantity \"1\\x09\": contains whitespace");
  EXPECT_EQ(ParseError("1\n"), "quantity \"1\\x0a\": contains whitespace");
  EXPECT_EQ(ParseError("abc"), "quantity \"abc\": expected a number");
  EXPECT_EQ(ParseError("-"), "quantity \"-\": expected a number");
  EXPECT_EQ(ParseError("+"), "quantity \"+\": expected a number");
  EXPECT_EQ(ParseError("."), "quantity \".\": expected a number");
  EXPECT_EQ(ParseError("-.Mi"), "quantity \"-.Mi\": expected a number");
  EXPECT_EQ(ParseError("Mi"), "quantity \"Mi\": expected a number");
  EXPECT_EQ(ParseError("--1"), "quantity \"--1\": expected a number");
  EXPECT_EQ(ParseError("+-1"), "quantity \"+-1\": expected a number");
  EXPECT_EQ(ParseError("1e"), "quantity \"1e\": unknown suffix \"e\"");
  EXPECT_EQ(ParseError("1e+"), "quantity \"1e+\": unknown suffix \"e+\"");
  EXPECT_EQ(ParseError("1e-"), "quantity \"1e-\": unknown suffix \"e-\"");
  EXPECT_EQ(ParseError("1e1.5"), "quantity \"1e1.5\": unknown suffix \"e1.5\"");
  EXPECT_EQ(ParseError("1ee3"), "quantity \"1ee3\": unknown suffix \"ee3\"");
  EXPECT_EQ(ParseError("1e3m"), "quantity \"1e3m\": unknown suffix \"e3m\"");
  EXPECT_EQ(ParseError("1Mi5"), "quantity \"1Mi5\": unknown suffix \"Mi5\"");
  EXPECT_EQ(ParseError("1mi"), "quantity \"1mi\": unknown suffix \"mi\"");
  EXPECT_EQ(ParseError("1K"), "quantity \"1K\": unknown suffix \"K\"");
  EXPECT_EQ(ParseError("1KI"), "quantity \"1KI\": unknown suffix \"KI\"");
  EXPECT_EQ(ParseError("1Kib"), "quantity \"1Kib\": unknown suffix \"Kib\"");
  EXPECT_EQ(ParseError("1i"), "quantity \"1i\": unknown suffix \"i\"");
  EXPECT_EQ(ParseError("1ki"), "quantity \"1ki\": unknown suffix \"ki\"");
  EXPECT_EQ(ParseError("1mm"), "quantity \"1mm\": unknown suffix \"mm\"");
  EXPECT_EQ(ParseError("0x10"), "quantity \"0x10\": unknown suffix \"x10\"");
  EXPECT_EQ(ParseError("1_000"), "quantity \"1_000\": unknown suffix \"_000\"");
  EXPECT_EQ(ParseError("1\x01"), "quantity \"1\\x01\": unknown suffix \"\\x01\"");
  EXPECT_EQ(ParseError("1\""), "quantity \"1\\\"\": unknown suffix \"\\\"\"");
  EXPECT_EQ(ParseError("1-"), "quantity \"1-\": unknown suffix \"-\"");
}

TEST(QuantityTest, ToStringIsCanonicalAndRoundTrips) {
  EXPECT_EQ(Q("1500m").ToString(), "1500m");
  EXPECT_EQ(Q("1.5").ToString(), "1500m");
  EXPECT_EQ(Q("5n").ToString(), "5n");
  EXPECT_EQ(Q("1Ki").ToString(), "1024");
  EXPECT_EQ(Q("128Mi").ToString(), "134217728");
  EXPECT_EQ(Q("-1.5").ToString(), "-1500m");
  EXPECT_EQ(Q("100M").ToString(), "100000000");
  EXPECT_EQ(Q("1000m").ToString(), "1");
  EXPECT_EQ(Q("1u").ToString(), "1000n");
  EXPECT_EQ(Q("-7Ei").ToString(), "-8070450532247928832");
  for (const char* text :
       {"0", "1", "-1", "1500m", "0.5Gi", "1.1Ki", "5n", "-5n", "1e-10", "123456789.123456789",
        "1e25", "-1e25", "1.23456789012Gi", "0.0000000001Ki", "9223372036854775807",
        "-9223372036854775808", "170141183460469231731687303715884105727n"}) {
    Quantity q = Q(text);
    Result<Quantity> again = Quantity::Parse(q.ToString());
    ASSERT_TRUE(again.ok()) << text << " -> " << q.ToString();
    EXPECT_EQ(*again, q) << text << " -> " << q.ToString();
  }
}

// Plain digits with a common suffix take a short path; a sign or a fraction takes the whole
// grammar's. Both must give the same value.
TEST(QuantityTest, CommonFormsAgreeWithTheWholeGrammar) {
  const std::vector<std::string> numbers = {"0",
                                            "1",
                                            "7",
                                            "168",
                                            "0042",
                                            "7820",
                                            "65851340",
                                            "129886128",
                                            "999999999999999",
                                            "1000000000000000",
                                            "9999999999999999"};
  // Those the short path takes, and some it leaves to the whole grammar.
  const std::vector<std::string> suffixes = {"",   "m",   "k",    "M",   "G",   "Ki", "Mi",
                                             "Gi", "Ti",  "T",    "Pi",  "n",   "u",  "e3",
                                             "E9", "e-9", "e-10", "e10", "e+2", "Ei"};
  size_t parsed = 0, out_of_range = 0;
  for (const std::string& number : numbers) {
    for (const std::string& suffix : suffixes) {
      const std::string text = number + suffix;
      Result<Quantity> simple = Quantity::Parse(text);
      Result<Quantity> signed_form = Quantity::Parse("+" + text);
      Result<Quantity> fraction = Quantity::Parse(number + ".0" + suffix);
      ASSERT_EQ(simple.ok(), signed_form.ok()) << text;
      ASSERT_EQ(simple.ok(), fraction.ok()) << text;
      ++(simple.ok() ? parsed : out_of_range);
      if (!simple.ok()) continue;
      EXPECT_EQ(*simple, *signed_form) << text;
      EXPECT_EQ(*simple, *fraction) << text;
    }
  }
  EXPECT_GT(parsed, 120u);
  EXPECT_GT(out_of_range, 0u);  // e.g. 999999999999999Pi, beyond int64 units
  EXPECT_EQ(Quantity::Parse("64Mi")->Value(), 64 << 20);
  EXPECT_EQ(Quantity::Parse("7820m")->MilliValue(), 7820);
  EXPECT_FALSE(Quantity::Parse("64Qi").ok());
  EXPECT_FALSE(Quantity::Parse("64i").ok());
  EXPECT_FALSE(Quantity::Parse("64 Mi").ok());
}

TEST(QuantityTest, FactoriesAgreeWithParse) {
  EXPECT_EQ(Quantity::FromValue(42), Q("42"));
  EXPECT_EQ(Quantity::FromValue(-3), Q("-3"));
  EXPECT_EQ(Quantity::FromMilli(1500), Q("1.5"));
  EXPECT_EQ(Quantity::FromValue(kInt64Max).Value(), kInt64Max);
  EXPECT_EQ(Quantity::FromValue(kInt64Min).Value(), kInt64Min);
  EXPECT_EQ(Quantity::FromMilli(kInt64Max).MilliValue(), kInt64Max);
  EXPECT_TRUE(Quantity().IsZero());
}

TEST(QuantityTest, ComparesAndAddsExactly) {
  EXPECT_EQ(Q("1000m"), Q("1"));
  EXPECT_EQ(Q("1Ki"), Q("1024"));
  EXPECT_EQ(Q("1k"), Q("1e3"));
  EXPECT_GT(Q("1Ki"), Q("1k"));
  EXPECT_LT(Q("1n"), Q("1u"));
  EXPECT_LT(Q("-1"), Q("0"));
  EXPECT_EQ(Q("500m") + Q("500m"), Q("1"));
  EXPECT_EQ((Q("0.5n") + Q("0.5n")).ToString(), "2n");  // each rounds up on its own
  EXPECT_EQ(Q("1") - Q("1500m"), Q("-500m"));
  EXPECT_TRUE((Q("1") - Q("1500m")).IsNegative());
  // Sums stay exact; rounding happens once, in Value().
  EXPECT_EQ((Q("0.4") + Q("0.4")).Value(), 1);
  EXPECT_EQ(Q("0.4").Value() + Q("0.4").Value(), 2);
}

}  // namespace
}  // namespace epc
