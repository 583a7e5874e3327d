#pragma once
/// @file random.hpp
/// @brief Seeded random numbers: one global generator, like torch.manual_seed.
///
/// Everything random in convbook (weight init, dropout masks, shuffling, augmentation) draws
/// from an Rng; layers created after `manual_seed(s)` get the same weights on every run.
#include <cstdint>
#include <random>

namespace convbook {

/// @brief A small reproducible generator: mt19937_64 plus our own uniform and normal
/// transforms (std distributions are implementation-defined, ours are not).
class Rng {
 public:
  /// @brief A generator seeded with `seed`.
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}
  /// @brief Reseeds.
  void seed(std::uint64_t s) { engine_.seed(s); has_spare_ = false; }
  /// @brief 64 random bits.
  std::uint64_t next_u64() { return engine_(); }
  /// @brief Uniform in [0, 1).
  double uniform() { return double(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  /// @brief Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// @brief Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : engine_() % n; }
  /// @brief Standard normal (Box-Muller, caching the second value).
  double normal();
  /// @brief Normal with the given mean and standard deviation.
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

/// @brief The global generator that layer constructors use for their initial weights.
Rng& global_rng();
/// @brief Reseeds the global generator (torch.manual_seed).
void manual_seed(std::uint64_t seed);

}  // namespace convbook
