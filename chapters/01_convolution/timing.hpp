#pragma once
/// @file timing.hpp
/// @brief The one timing rule of chapter 01's demos and benchmarks.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

namespace convbook {

/// @brief A std::chrono clock of the CPU time used by this process, all threads together
/// (CLOCK_PROCESS_CPUTIME_ID). At one thread it leaves out the time the process spent waiting
/// for a core, which wall time counts: on a machine shared by many jobs a 10 ms measurement is
/// often cut by another job's time slice.
struct ProcessCpuClock {
  using duration = std::chrono::nanoseconds;  ///< the resolution
  using rep = duration::rep;                  ///< its count type
  using period = duration::period;            ///< its period
  using time_point = std::chrono::time_point<ProcessCpuClock>;  ///< a reading
  static constexpr bool is_steady = true;                        ///< never goes back
  /// @brief The CPU time used so far.
  static time_point now() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return time_point(duration(rep(t.tv_sec) * 1000000000 + t.tv_nsec));
  }
};

/// @brief Best time of `repeats` calls of `f` on `Clock` (wall time by default), in
/// milliseconds, after one warm-up call (which grows the workspaces, faults the pages in and
/// wakes the threads). The best, not the mean, because other processes on a shared machine only
/// ever add time.
template <typename Clock = std::chrono::steady_clock, typename F>
double best_ms(int repeats, F&& f) {
  f();
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    f();
    const auto t1 = Clock::now();
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return best;
}

}  // namespace convbook
