// Reflector: keeps a local copy of one collection current, as client-go's reflector does.
//
// It lists (in pages), hands the whole collection to the handler, then watches from the list's
// resourceVersion with bookmarks. A 410 Gone (the version was compacted) relists; a dropped
// connection or a 5xx backs off exponentially with jitter and resumes the watch from the last
// resourceVersion seen. The handler sees raw JSON object text and decodes what it needs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/k8s/api_client.h"
#include "common/util/logging.h"

namespace epc {

struct ReflectorHandler {
  // The whole collection after a (re)list; objects are JSON texts.
  std::function<void(const std::vector<std::string>& objects)> replace;
  // type is ADDED, MODIFIED or DELETED.
  std::function<void(std::string_view type, std::string_view object)> event;
};

struct ReflectorOptions {
  int64_t page_size = 500;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{30'000};
  // How long one watch request may stay open (timeoutSeconds); a healthy reflector reconnects
  // at least this often, which refreshes last_contact().
  std::chrono::seconds watch_timeout{300};
};

class Reflector {
 public:
  using Clock = std::chrono::steady_clock;

  // `path` is a collection, e.g. "/api/v1/nodes"; `selector_query` is "" or
  // "fieldSelector=...&labelSelector=..." (already URL-encoded).
  Reflector(std::shared_ptr<ApiClient> client, std::string path, std::string selector_query,
            ReflectorHandler handler, Logger& log, ReflectorOptions options = {});
  ~Reflector();

  // Blocks, listing and watching, until Stop(). Call from a thread of your own.
  void Run();
  void Stop();

  bool HasSynced() const { return synced_.load(); }
  // The last time the server answered: a list, a watch opening, an event or a bookmark.
  Clock::time_point last_contact() const;
  std::string resource_version() const;

 private:
  enum class WatchEnd { kExpired, kError, kClosed };
  bool ListAll();
  WatchEnd Watch();
  void Touch();
  void SleepBackoff();
  bool stopping() const { return stop_.load(); }

  const std::shared_ptr<ApiClient> client_;
  const std::string path_;
  const std::string selector_query_;
  const ReflectorHandler handler_;
  Logger& log_;
  const ReflectorOptions options_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  Clock::time_point last_contact_{};
  std::string resource_version_;
  std::chrono::milliseconds backoff_;
  std::minstd_rand jitter_;
  StreamCanceller canceller_;
};

}  // namespace epc
