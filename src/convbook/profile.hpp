#pragma once
/// @file profile.hpp
/// @brief Per-module timing of forward and backward (`convbook bench model --profile`).
///
/// A layer opts in with one line at the top of its forward and backward:
///
///     const ProfileScope scope(this, Pass::forward);
///
/// While no Profiler is active that line costs one load and one branch; while one is, the
/// scope adds its wall time to the module's row. Scopes nest (a block's scope holds its
/// layers'), so a row is the module's inclusive time. The leaf layers of src/convbook
/// (Conv2d, BatchNorm2d, ReLU, pools, Linear, Flatten, Dropout) and Sequential have it; a new
/// layer or block adds the same line to appear in the profile.
#include <chrono>
#include <cstddef>
#include <unordered_map>

namespace convbook {

class Module;

/// @brief Which half of a step a time belongs to.
enum class Pass { forward, backward };

/// @brief Accumulated time of one module.
struct ModuleTime {
  double forward_s = 0;            ///< seconds spent in forward, all calls together
  double backward_s = 0;           ///< seconds spent in backward, all calls together
  std::size_t forward_calls = 0;   ///< how many forward calls were timed
  std::size_t backward_calls = 0;  ///< how many backward calls were timed
};

/// @brief Collects the times of every ProfileScope while it is active (one at a time).
///
/// Not thread-safe: modules are called from one thread (their kernels may use OpenMP inside).
class Profiler {
 public:
  Profiler() = default;
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;
  /// @brief Stops collecting if this profiler is still the active one.
  ~Profiler();

  /// @brief Makes this profiler the one scopes report to.
  /// @throws Error when another profiler is active.
  void start();
  /// @brief Stops collecting (no-op when not active).
  void stop();

  /// @brief The times of `m` so far (zeros when it was never timed).
  ModuleTime time_of(const Module* m) const;
  /// @brief True when `m` has at least one timed call.
  bool has(const Module* m) const { return times_.count(m) > 0; }
  /// @brief Forgets every time collected so far.
  void clear() { times_.clear(); }

  /// @brief The profiler scopes report to, or nullptr.
  static Profiler* active() { return active_; }
  /// @brief Adds `seconds` to `m`'s row (ProfileScope calls this).
  void record(const Module* m, Pass pass, double seconds);

 private:
  std::unordered_map<const Module*, ModuleTime> times_;
  static Profiler* active_;
};

//! [profile-scope]
/// @brief Times the enclosing block for the active profiler, if any (RAII).
class ProfileScope {
 public:
  /// @brief Starts timing `m`'s `pass` when a profiler is active; does nothing otherwise.
  ProfileScope(const Module* m, Pass pass) : profiler_(Profiler::active()) {
    if (profiler_) {
      module_ = m;
      pass_ = pass;
      start_ = std::chrono::steady_clock::now();
    }
  }
  /// @brief Reports the elapsed time to the profiler that was active at construction.
  ~ProfileScope() {
    if (profiler_) {
      const auto end = std::chrono::steady_clock::now();
      profiler_->record(module_, pass_, std::chrono::duration<double>(end - start_).count());
    }
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  Profiler* profiler_;
  const Module* module_ = nullptr;
  Pass pass_ = Pass::forward;
  std::chrono::steady_clock::time_point start_{};
};
//! [profile-scope]

}  // namespace convbook
