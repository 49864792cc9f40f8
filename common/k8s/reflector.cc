#include "common/k8s/reflector.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

namespace epc {
namespace {

// Field names compared as Go's encoding/json does.
bool KeyIs(std::string_view key, std::string_view want) {
  return key.size() == want.size() &&
         std::equal(key.begin(), key.end(), want.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

struct ListPage {
  std::vector<std::string> items;
  std::string resource_version;
  std::string continue_token;
};

Result<ListPage> ParseListPage(const std::string& body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  ListPage page;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return Error{"list answer is not JSON"};
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return Error{"list answer is not a JSON object"};
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Error{"list answer: bad key"};
    if (KeyIs(key, "metadata")) {
      simdjson::ondemand::object meta;
      if (field.value().get_object().get(meta)) return Error{"list answer: bad metadata"};
      for (auto m : meta) {
        std::string_view mkey, value;
        if (m.unescaped_key().get(mkey)) return Error{"list answer: bad metadata"};
        if (KeyIs(mkey, "resourceVersion") && !m.value().get_string().get(value)) {
          page.resource_version = value;
        } else if (KeyIs(mkey, "continue") && !m.value().get_string().get(value)) {
          page.continue_token = value;
        }
      }
    } else if (KeyIs(key, "items")) {
      simdjson::ondemand::array items;
      if (field.value().get_array().get(items)) {
        continue;  // null: an empty list
      }
      for (auto item : items) {
        std::string_view raw;
        simdjson::ondemand::object obj;
        if (item.get_object().get(obj) || obj.raw_json().get(raw)) {
          return Error{"list answer: an item is not an object"};
        }
        page.items.emplace_back(raw);
      }
    }
  }
  return page;
}

struct WatchEvent {
  std::string_view type;
  std::string_view object;  // raw JSON
  std::string resource_version;
  int64_t error_code = 0;  // for type ERROR: the Status code
};

// Reads metadata.resourceVersion (or a Status's code) from an event object.
Result<WatchEvent> ParseEvent(simdjson::ondemand::parser& parser, std::string_view line,
                              simdjson::padded_string& scratch) {
  scratch = simdjson::padded_string(line);
  WatchEvent ev;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (parser.iterate(scratch).get(doc) || doc.get_object().get(root)) {
    return Error{"watch event is not a JSON object"};
  }
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return Error{"watch event: bad key"};
    if (KeyIs(key, "type")) {
      if (field.value().get_string().get(ev.type)) return Error{"watch event: type"};
    } else if (KeyIs(key, "object")) {
      simdjson::ondemand::object obj;
      if (field.value().get_object().get(obj)) return Error{"watch event: object"};
      if (obj.raw_json().get(ev.object)) return Error{"watch event: object"};
    }
  }
  if (ev.object.empty()) return Error{"watch event has no object"};
  // Second pass over the object alone for the few fields the reflector needs.
  simdjson::padded_string obj_copy(ev.object);
  simdjson::ondemand::parser obj_parser;
  simdjson::ondemand::document odoc;
  simdjson::ondemand::object obj;
  if (obj_parser.iterate(obj_copy).get(odoc) || odoc.get_object().get(obj)) return ev;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    if (KeyIs(key, "code")) {
      int64_t code = 0;
      if (!field.value().get_int64().get(code)) ev.error_code = code;
    } else if (KeyIs(key, "metadata")) {
      simdjson::ondemand::object meta;
      if (field.value().get_object().get(meta)) continue;
      for (auto m : meta) {
        std::string_view mkey, value;
        if (m.unescaped_key().get(mkey)) break;
        if (KeyIs(mkey, "resourceVersion") && !m.value().get_string().get(value)) {
          ev.resource_version = value;
        }
      }
    }
  }
  return ev;
}

}  // namespace

Reflector::Reflector(std::shared_ptr<ApiClient> client, std::string path,
                     std::string selector_query, ReflectorHandler handler, Logger& log,
                     ReflectorOptions options)
    : client_(std::move(client)),
      path_(std::move(path)),
      selector_query_(std::move(selector_query)),
      handler_(std::move(handler)),
      log_(log),
      options_(options),
      backoff_(options.initial_backoff),
      jitter_(std::random_device{}()) {}

Reflector::~Reflector() { Stop(); }

void Reflector::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  canceller_.Cancel();
}

Reflector::Clock::time_point Reflector::last_contact() const {
  std::lock_guard lock(mu_);
  return last_contact_;
}

std::string Reflector::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

void Reflector::Touch() {
  std::lock_guard lock(mu_);
  last_contact_ = Clock::now();
}

void Reflector::SleepBackoff() {
  std::unique_lock lock(mu_);
  // Full jitter on top of the exponential step: between 1x and 2x the current backoff.
  const auto extra = std::uniform_int_distribution<int64_t>(0, backoff_.count())(jitter_);
  wake_.wait_for(lock, backoff_ + std::chrono::milliseconds(extra), [&] { return stop_.load(); });
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

void Reflector::Run() {
  bool need_list = true;
  while (!stopping()) {
    if (need_list) {
      if (!ListAll()) {
        SleepBackoff();
        continue;
      }
      need_list = false;
    }
    switch (Watch()) {
      case WatchEnd::kExpired:
        log_.Info("watch " + path_ + ": resourceVersion expired (410 Gone); relisting");
        need_list = true;
        break;
      case WatchEnd::kError:
        SleepBackoff();
        break;
      case WatchEnd::kClosed:
        break;  // the server's timeout ended the watch; resume from the last version
    }
  }
}

bool Reflector::ListAll() {
  std::vector<std::string> objects;
  std::string continue_token;
  std::string version;
  do {
    std::string query = "?limit=" + std::to_string(options_.page_size);
    if (!selector_query_.empty()) query += "&" + selector_query_;
    if (!continue_token.empty()) query += "&continue=" + UrlEncode(continue_token);
    auto res = client_->Get(path_ + query);
    if (!res.ok()) {
      log_.Warning("list " + path_ + ": " + res.error());
      return false;
    }
    if (res->status == 410 && !continue_token.empty()) {
      // The continue token expired mid-list: start the list over.
      log_.Info("list " + path_ + ": continue token expired; listing again");
      objects.clear();
      continue_token.clear();
      continue;
    }
    if (!res->ok()) {
      log_.Warning("list " + path_ + ": " + res->ErrorMessage());
      return false;
    }
    auto page = ParseListPage(res->body);
    if (!page.ok()) {
      log_.Warning("list " + path_ + ": " + page.error());
      return false;
    }
    for (auto& item : page.value().items) objects.push_back(std::move(item));
    continue_token = page.value().continue_token;
    version = page.value().resource_version;
  } while (!continue_token.empty() && !stopping());
  if (stopping()) return false;

  handler_.replace(objects);
  {
    std::lock_guard lock(mu_);
    resource_version_ = version;
    last_contact_ = Clock::now();
    backoff_ = options_.initial_backoff;
  }
  synced_ = true;
  log_.V(2, "list " + path_ + ": " + std::to_string(objects.size()) + " objects at version " +
                version);
  return true;
}

Reflector::WatchEnd Reflector::Watch() {
  std::string query = "?watch=true&allowWatchBookmarks=true&timeoutSeconds=" +
                      std::to_string(options_.watch_timeout.count()) +
                      "&resourceVersion=" + UrlEncode(resource_version());
  if (!selector_query_.empty()) query += "&" + selector_query_;

  simdjson::ondemand::parser parser;
  simdjson::padded_string scratch;
  WatchEnd end = WatchEnd::kClosed;
  bool opened = false;
  auto on_line = [&](std::string_view line) {
    if (!opened) {
      opened = true;
      std::lock_guard lock(mu_);
      backoff_ = options_.initial_backoff;
    }
    Touch();
    auto ev = ParseEvent(parser, line, scratch);
    if (!ev.ok()) {
      log_.Warning("watch " + path_ + ": " + ev.error() + "; reconnecting");
      end = WatchEnd::kError;
      return false;
    }
    const WatchEvent& e = ev.value();
    if (e.type == "ERROR") {
      end = e.error_code == 410 ? WatchEnd::kExpired : WatchEnd::kError;
      if (end == WatchEnd::kError) {
        log_.Warning("watch " + path_ + ": server sent an error event (code " +
                     std::to_string(e.error_code) + ")");
      }
      return false;
    }
    if (e.type != "BOOKMARK") handler_.event(e.type, e.object);
    if (!e.resource_version.empty()) {
      std::lock_guard lock(mu_);
      resource_version_ = e.resource_version;
    }
    return !stopping();
  };
  // Idle timeout a little over the server-side timeout, so a silent dead connection ends.
  auto res = client_->Stream(path_ + query, on_line, &canceller_,
                             options_.watch_timeout + std::chrono::seconds(30));
  if (stopping()) return WatchEnd::kClosed;
  if (!res.ok()) {
    log_.Warning("watch " + path_ + ": " + res.error());
    return WatchEnd::kError;
  }
  if (res->status == 410) return WatchEnd::kExpired;
  if (res->status != 200) {
    log_.Warning("watch " + path_ + ": " + res->ErrorMessage());
    return WatchEnd::kError;
  }
  if (!opened) Touch();  // an empty but successful stream still proves the server is there
  return end;
}

}  // namespace epc
