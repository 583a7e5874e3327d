#pragma once
/// @file timing.hpp
/// @brief The one timing rule of chapter 01's demos and benchmarks.
#include <algorithm>
#include <chrono>
#include <limits>

namespace convbook {

/// @brief Best wall time of `repeats` calls of `f`, in milliseconds, after one warm-up call
/// (which grows the workspaces, faults the pages in and wakes the threads). The best, not the
/// mean, because other processes on a shared machine only ever add time.
template <typename F>
double best_ms(int repeats, F&& f) {
  f();
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

}  // namespace convbook
