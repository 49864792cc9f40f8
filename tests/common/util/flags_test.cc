// FlagSet: the daemons' flags, taken the way Kubernetes components take them.
#include "common/util/flags.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace epc {
namespace {

// A command line's arguments as argv, argv[0] the program.
class Args {
 public:
  Args(std::initializer_list<std::string> args) : text_{"prog"} {
    text_.insert(text_.end(), args.begin(), args.end());
    for (std::string& a : text_) argv_.push_back(a.data());
  }
  int argc() const { return static_cast<int>(argv_.size()); }
  char** argv() { return argv_.data(); }

 private:
  std::vector<std::string> text_;
  std::vector<char*> argv_;
};

struct Flags {
  std::string config;
  std::optional<std::string> state;
  int v = 0;
  std::optional<int> port;
  bool once = false;
};

// The flags of `args`, or the usage error.
std::string Parse(std::initializer_list<std::string> args, Flags& f, FlagSet* out = nullptr) {
  FlagSet set;
  set.String("config", f.config);
  set.String("state", f.state);
  set.Int("v", f.v, 0, 10, "0..10");
  set.Int("port", f.port, 0, 65535, "0..65535");
  set.Bool("once", f.once);
  Args a(args);
  std::optional<std::string> error = set.Parse(a.argc(), a.argv());
  if (out != nullptr) *out = set;
  return error.value_or("");
}

TEST(FlagSetTest, TakesBothSpellingsOfAValue) {
  Flags f;
  FlagSet set;
  EXPECT_EQ(Parse({"--config", "a.yaml", "--v=3", "--port=0", "--state", "s.json"}, f, &set), "");
  EXPECT_EQ(f.config, "a.yaml");
  EXPECT_EQ(f.v, 3);
  EXPECT_EQ(f.port, 0);
  EXPECT_EQ(f.state, "s.json");
  EXPECT_TRUE(set.Given("config"));
  EXPECT_TRUE(set.Given("port"));
  EXPECT_FALSE(set.Given("once"));
  EXPECT_FALSE(set.help());
}

TEST(FlagSetTest, LeavesDefaultsOfFlagsNotGiven) {
  Flags f;
  f.v = 2;
  EXPECT_EQ(Parse({}, f), "");
  EXPECT_EQ(f.v, 2);
  EXPECT_FALSE(f.port.has_value());
  EXPECT_FALSE(f.state.has_value());
}

TEST(FlagSetTest, BooleanFlagsNeverTakeTheNextArgument) {
  Flags f;
  EXPECT_EQ(Parse({"--once", "--config", "c"}, f), "");
  EXPECT_TRUE(f.once);
  EXPECT_EQ(f.config, "c");
  EXPECT_EQ(Parse({"--once=false"}, f), "");
  EXPECT_FALSE(f.once);
  EXPECT_EQ(Parse({"--once=true"}, f), "");
  EXPECT_TRUE(f.once);
  EXPECT_EQ(Parse({"--once", "false"}, f), "unexpected argument \"false\"");
  EXPECT_EQ(Parse({"--once=yes"}, f), "--once takes true or false, not \"yes\"");
}

TEST(FlagSetTest, NamesWhatIsWrong) {
  Flags f;
  EXPECT_EQ(Parse({"--bogus=1"}, f), "unknown flag --bogus");
  EXPECT_EQ(Parse({"-v", "1"}, f), "unexpected argument \"-v\"");
  EXPECT_EQ(Parse({"config.yaml"}, f), "unexpected argument \"config.yaml\"");
  EXPECT_EQ(Parse({"--config"}, f), "flag --config needs a value");
  EXPECT_EQ(Parse({"--port", "70000"}, f), "--port must be 0..65535, not \"70000\"");
  EXPECT_EQ(Parse({"--port=8o"}, f), "--port must be 0..65535, not \"8o\"");
  EXPECT_EQ(Parse({"--v="}, f), "--v must be 0..10, not \"\"");
  EXPECT_EQ(Parse({"--v", "-1"}, f), "--v must be 0..10, not \"-1\"");
}

TEST(FlagSetTest, AnEmptyValueIsAValue) {
  Flags f;
  f.config = "x";
  EXPECT_EQ(Parse({"--config="}, f), "");
  EXPECT_EQ(f.config, "");
}

TEST(FlagSetTest, HelpInEachSpelling) {
  for (const char* h : {"-h", "--help", "-help"}) {
    Flags f;
    FlagSet set;
    EXPECT_EQ(Parse({h}, f, &set), "") << h;
    EXPECT_TRUE(set.help()) << h;
  }
}

TEST(FlagSetTest, AFlagDeclaredTwiceIsAProgrammingError) {
  bool a = false;
  FlagSet set;
  set.Bool("x", a);
  EXPECT_THROW(set.Bool("x", a), std::logic_error);
}

}  // namespace
}  // namespace epc
