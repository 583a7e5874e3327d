#pragma once
/// @file workspace.hpp
/// @brief The one rule of every convolution kernel's scratch memory.
#include <cstddef>
#include <vector>

namespace convbook {

/// @brief At least `n` scalars of `workspace`, growing it only when it is too small: it reaches
/// the size of the largest layer once, then no call allocates again.
template <typename T>
T* reserve_workspace(std::vector<T>& workspace, std::size_t n) {
  if (workspace.size() < n) workspace.resize(n);
  return workspace.data();
}

}  // namespace convbook
