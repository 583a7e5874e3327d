#include "convbook/init.hpp"

#include <cmath>
#include <string>

#include "convbook/error.hpp"

namespace convbook {

namespace {
std::size_t receptive_field(const Parameter& p, const char* who) {
  if (p.shape.size() < 2) {
    throw Error(std::string(who) + ": a parameter needs at least 2 dimensions to have a fan, got " +
                std::to_string(p.shape.size()));
  }
  std::size_t r = 1;
  for (std::size_t i = 2; i < p.shape.size(); ++i) r *= p.shape[i];
  return r;
}

std::size_t fan(const Parameter& p, FanMode mode, const char* who) {
  const std::size_t f = mode == FanMode::FanIn ? fan_in(p) : fan_out(p);
  if (f == 0) throw Error(std::string(who) + ": fan is 0 (a dimension of the parameter is 0)");
  return f;
}
}  // namespace

std::size_t fan_in(const Parameter& p) {
  return p.shape[1] * receptive_field(p, "fan_in");
}

std::size_t fan_out(const Parameter& p) {
  return p.shape[0] * receptive_field(p, "fan_out");
}

//! [kaiming-normal]
void kaiming_normal_(Parameter& p, FanMode mode, Rng& rng) {
  // gain sqrt(2) for ReLU: half of the pre-activations are zeroed, so the variance of each layer's
  // output stays constant when Var(w) = 2 / fan (He et al. 2015, eq. 10 forward, eq. 14 backward).
  const double stddev = std::sqrt(2.0) / std::sqrt(double(fan(p, mode, "kaiming_normal_")));
  for (auto& v : p.value) v = Scalar(rng.normal(0.0, stddev));
}
//! [kaiming-normal]

void kaiming_uniform_(Parameter& p, double a, FanMode mode, Rng& rng) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  // U(-b, b) has variance b^2 / 3, so b = gain * sqrt(3 / fan) gives Var = gain^2 / fan.
  const double bound = gain * std::sqrt(3.0 / double(fan(p, mode, "kaiming_uniform_")));
  uniform_(p, -bound, bound, rng);
}

void uniform_(Parameter& p, double lo, double hi, Rng& rng) {
  for (auto& v : p.value) v = Scalar(rng.uniform(lo, hi));
}

void constant_(Parameter& p, double v) {
  p.value.fill(Scalar(v));
}

}  // namespace convbook
