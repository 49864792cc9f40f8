// Eventually(f): polls f every 20 ms until it holds or `timeout` passes; the last answer. For
// tests that wait on another thread or process (a watch delivering an event).
#pragma once

#include <chrono>
#include <thread>

namespace epc::testing {

template <typename F>
bool Eventually(F f, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

}  // namespace epc::testing
