// FlagSet: a daemon's command-line flags, declared once and parsed the way Kubernetes
// components take them.
//
//   --name=value or --name value; boolean flags as --name, --name=true or --name=false;
//   -h, --help and -help ask for help.
//
// epc-extender and epc-autoscaler declare their flags here, so both take flags alike and name a
// bad one alike ("unknown flag --x", "flag --x needs a value", "--port must be 0..65535, not
// \"x\""). Each flag writes into a variable the caller owns; the variable must outlive Parse.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace epc {

class FlagSet {
 public:
  void Bool(std::string_view name, bool& out);
  void String(std::string_view name, std::string& out);
  void String(std::string_view name, std::optional<std::string>& out);
  // An integer within [min, max]; `range` says which in errors: "--port must be <range>, not ...".
  void Int(std::string_view name, int& out, int min, int max, std::string_view range);
  void Int(std::string_view name, std::optional<int>& out, int min, int max,
           std::string_view range);

  // Parses argv[1..argc). Returns the usage error, or nullopt when every argument was a
  // declared flag with a good value.
  std::optional<std::string> Parse(int argc, char** argv);
  bool help() const { return help_; }
  // Whether the command line gave the flag (its value may equal the default).
  bool Given(std::string_view name) const;

 private:
  struct Flag {
    std::string name;
    bool boolean = false;
    // Stores the value; returns the error message when it is not good.
    std::function<std::optional<std::string>(std::string_view)> set;
    bool given = false;
  };
  void Add(std::string_view name, bool boolean,
           std::function<std::optional<std::string>(std::string_view)> set);
  void AddString(std::string_view name, std::function<void(std::string_view)> store);
  void AddInt(std::string_view name, int min, int max, std::string_view range,
              std::function<void(int)> store);
  Flag* Find(std::string_view name);

  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace epc
