#pragma once
// Helpers of the exercise checks (exercises/NN_x/check.cpp): reproducible inputs, and the
// comparison of the reader's answer with what the library computes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "convbook/random.hpp"
#include "convbook/tensor.hpp"
#include "support/check.hpp"

namespace convbook::exercise {

/// n values drawn from N(0, 1) with a fixed seed.
inline std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& e : v) e = float(rng.normal());
  return v;
}

/// A tensor of shape s holding v (row-major, v.size() == numel(s)).
inline Tensor as_tensor(const std::vector<float>& v, const Shape& s) {
  Tensor t = zeros(s);
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

/// Worst |a - b| / (atol + rtol |b|) with atol 1e-5, rtol 1e-4: <= 1 means every element of
/// `yours` is close to the library's (a vector or a Tensor, read in order).
template <typename Library>
double allclose_ratio(const std::vector<float>& yours, const Library& library) {
  REQUIRE(yours.size() == std::size_t(library.size()));
  return test::allclose_ratio(yours, library, 1e-4, 1e-5);
}

}  // namespace convbook::exercise
