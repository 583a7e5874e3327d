#pragma once
/// @file concat_naive.hpp
/// @brief The channel concatenation and its split written from their index definitions, one
/// value at a time: the reference for the block copies of convbook/layers/concat.hpp.
///
/// Legend: N batch, C_i channels of part i, H x W image; off_i = C_0 + ... + C_{i-1}.
#include <cstddef>
#include <vector>

#include "convbook/tensor.hpp"

namespace convbook {

/// @brief y[n][off_i + c][h][w] = x_i[n][c][h][w] for every part i, loop by loop.
/// @throws Error as concat_channels does.
Tensor concat_channels_naive(const std::vector<const Tensor*>& parts);

/// @brief dx_i[n][c][h][w] = dy[n][off_i + c][h][w], loop by loop.
/// @throws Error as split_channels does.
std::vector<Tensor> split_channels_naive(const Tensor& dy,
                                         const std::vector<std::size_t>& channels);

}  // namespace convbook
