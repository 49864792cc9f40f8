#include "common/util/flags.h"

#include <charconv>
#include <stdexcept>
#include <utility>

namespace epc {

namespace {

std::optional<int> ParseInt(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

void FlagSet::Add(std::string_view name, bool boolean,
                  std::function<std::optional<std::string>(std::string_view)> set) {
  if (Find(name) != nullptr) throw std::logic_error("flag --" + std::string(name) + " twice");
  flags_.push_back(Flag{std::string(name), boolean, std::move(set)});
}

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool FlagSet::Given(std::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.given;
  }
  return false;
}

void FlagSet::Bool(std::string_view name, bool& out) {
  Add(name, true,
      [&out, flag = std::string(name)](std::string_view v) -> std::optional<std::string> {
        if (v != "true" && v != "false") {
          return "--" + flag + " takes true or false, not " + Quoted(v);
        }
        out = v == "true";
        return std::nullopt;
      });
}

void FlagSet::AddString(std::string_view name, std::function<void(std::string_view)> store) {
  Add(name, false, [store = std::move(store)](std::string_view v) -> std::optional<std::string> {
    store(v);
    return std::nullopt;
  });
}

void FlagSet::AddInt(std::string_view name, int min, int max, std::string_view range,
                     std::function<void(int)> store) {
  Add(name, false,
      [min, max, store = std::move(store), flag = std::string(name),
       range = std::string(range)](std::string_view v) -> std::optional<std::string> {
        const std::optional<int> n = ParseInt(v);
        if (!n || *n < min || *n > max) {
          return "--" + flag + " must be " + range + ", not " + Quoted(v);
        }
        store(*n);
        return std::nullopt;
      });
}

void FlagSet::String(std::string_view name, std::string& out) {
  AddString(name, [&out](std::string_view v) { out = std::string(v); });
}

void FlagSet::String(std::string_view name, std::optional<std::string>& out) {
  AddString(name, [&out](std::string_view v) { out = std::string(v); });
}

void FlagSet::Int(std::string_view name, int& out, int min, int max, std::string_view range) {
  AddInt(name, min, max, range, [&out](int v) { out = v; });
}

void FlagSet::Int(std::string_view name, std::optional<int>& out, int min, int max,
                  std::string_view range) {
  AddInt(name, min, max, range, [&out](int v) { out = v; });
}

std::optional<std::string> FlagSet::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      help_ = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") return "unexpected argument " + Quoted(arg);
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    Flag* flag = Find(name);
    if (flag == nullptr) return "unknown flag --" + std::string(name);
    if (!value) {
      if (flag->boolean) {
        value = "true";  // a boolean flag never takes the next argument
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return "flag --" + std::string(name) + " needs a value";
      }
    }
    if (std::optional<std::string> error = flag->set(*value)) return error;
    flag->given = true;
  }
  return std::nullopt;
}

}  // namespace epc
