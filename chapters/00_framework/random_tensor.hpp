#pragma once
/// @file random_tensor.hpp
/// @brief Reproducible N(0, 1) inputs for the chapters' bench programs: each tensor draws from
/// its own seeded generator, so a table's inputs do not change when a row is added before it.
#include <cstdint>

#include "convbook/random.hpp"
#include "convbook/tensor.hpp"

namespace convbook {

/// @brief A tensor of `shape` filled with N(0, 1) values from `Rng(seed)`.
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  Tensor t = zeros(shape);
  for (auto& v : t) v = Scalar(rng.normal());
  return t;
}

}  // namespace convbook
