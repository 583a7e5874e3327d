#include "convbook/random.hpp"

#include <cmath>

namespace convbook {

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();  // log(0) is -inf
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 2.0 * M_PI * u2;
  spare_ = radius * std::sin(angle);
  has_spare_ = true;
  return radius * std::cos(angle);
}

Rng& global_rng() {
  static Rng rng(0);
  return rng;
}

void manual_seed(std::uint64_t seed) { global_rng().seed(seed); }

}  // namespace convbook
