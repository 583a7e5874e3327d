#pragma once
/// @file prefetch.hpp
/// @brief Software prefetch of the planes a loop reads next.
#include <cstddef>

namespace convbook {

/// @brief Asks for the `count` scalars from p into the L2 cache, one prefetch per 64-byte line.
///
/// For loops that visit planes which are not neighbours in memory: the convolutions that copy
/// an image's planes into a padded or interleaved buffer and then compute on it (grouped.cpp,
/// winograd.cpp), BatchNorm's per-channel sums over the images. Called with the planes of the
/// next step, they arrive while this one runs. The hardware prefetcher starts over at every
/// 4 KB page, and a 16 x 16 or 32 x 32 float plane is at most one, so without it every plane
/// begins with a wait for memory.
template <typename T>
void prefetch_next(const T* p, std::size_t count) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (std::size_t b = 0; b < count * sizeof(T); b += 64) __builtin_prefetch(bytes + b, 0, 2);
}

}  // namespace convbook
