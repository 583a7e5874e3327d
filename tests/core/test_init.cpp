// Initialization: PyTorch's fans, He et al. 2015 statistics measured on large tensors, the
// default bounds of Linear, and reproducibility from manual_seed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "convbook/error.hpp"
#include "convbook/init.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/random.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

namespace {
struct Moments {
  double mean = 0, stddev = 0, min = 0, max = 0;
};
Moments moments(const Parameter& p) {
  Moments m;
  const std::size_t n = p.value.size();
  for (auto v : p.value) m.mean += v;
  m.mean /= double(n);
  for (auto v : p.value) m.stddev += (v - m.mean) * (v - m.mean);
  m.stddev = std::sqrt(m.stddev / double(n));
  m.min = *std::min_element(p.value.begin(), p.value.end());
  m.max = *std::max_element(p.value.begin(), p.value.end());
  return m;
}
}  // namespace

TEST_CASE("fan_in and fan_out follow PyTorch", "[init]") {
  const Parameter conv = Parameter::make({16, 3, 5, 3});  // (K, C, R, S)
  CHECK(fan_in(conv) == 3 * 5 * 3);
  CHECK(fan_out(conv) == 16 * 5 * 3);
  const Parameter fc = Parameter::make({10, 20});  // (K, C)
  CHECK(fan_in(fc) == 20);
  CHECK(fan_out(fc) == 10);
  const Parameter bias = Parameter::make({10});
  CHECK_THROWS_WITH(fan_in(bias), Contains("at least 2 dimensions"));
}

TEST_CASE("kaiming_normal_ fan_out draws N(0, 2 / (K R S))", "[init]") {
  Parameter w = Parameter::make({256, 64, 3, 3});  // 147456 values
  Rng rng(1);
  kaiming_normal_(w, FanMode::FanOut, rng);
  const double expected = std::sqrt(2.0 / (256 * 9));
  const Moments m = moments(w);
  // the sample std of n normals has relative spread 1/sqrt(2n) = 0.18%: 1% is > 5 sigma
  CHECK(m.stddev == Approx(expected).epsilon(0.01));
  // the sample mean has spread std/sqrt(n) = std * 0.0026: 5 sigma
  CHECK(std::abs(m.mean) < 5 * expected / std::sqrt(147456.0));

  kaiming_normal_(w, FanMode::FanIn, rng);
  CHECK(moments(w).stddev == Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.01));
}

TEST_CASE("kaiming_uniform_ with a = sqrt(5) is U(-1/sqrt(fan_in), 1/sqrt(fan_in))", "[init]") {
  Parameter w = Parameter::make({128, 100, 3, 3});
  Rng rng(2);
  kaiming_uniform_(w, std::sqrt(5.0), FanMode::FanIn, rng);
  const double bound = 1.0 / std::sqrt(900.0);
  const Moments m = moments(w);
  CHECK(m.min >= -bound);
  CHECK(m.max < bound);
  CHECK(m.max > 0.99 * bound);                                      // the range is used in full
  CHECK(m.stddev == Approx(bound / std::sqrt(3.0)).epsilon(0.01));  // Var U(-b, b) = b^2 / 3
}

TEST_CASE("Linear's default init matches PyTorch's bounds", "[init]") {
  manual_seed(0);
  Linear fc(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  const Moments w = moments(fc.weight), b = moments(fc.bias);
  CHECK(w.min >= -bound);
  CHECK(w.max < bound);
  CHECK(w.max > 0.99 * bound);
  CHECK(b.min >= -bound);
  CHECK(b.max < bound);
  CHECK(b.max - b.min > bound);  // 300 draws spread over the interval, not a constant
}

TEST_CASE("manual_seed makes initialization reproducible", "[init]") {
  manual_seed(7);
  Linear a(30, 20);
  manual_seed(7);
  Linear b(30, 20);
  Linear c(30, 20);  // the generator moved on
  CHECK((a.weight.value == b.weight.value));
  CHECK((a.bias.value == b.bias.value));
  CHECK((a.weight.value != c.weight.value));
}

TEST_CASE("uniform_ and constant_ fill as asked", "[init]") {
  Parameter p = Parameter::make({1000});
  Rng rng(3);
  uniform_(p, 2.0, 3.0, rng);
  const Moments m = moments(p);
  CHECK(m.min >= 2.0);
  CHECK(m.max < 3.0);
  CHECK(m.mean == Approx(2.5).epsilon(0.02));
  constant_(p, -1.5);
  CHECK(moments(p).min == -1.5);
  CHECK(moments(p).max == -1.5);
}
