#pragma once
/// @file concat.hpp
/// @brief torch.cat(parts, dim=1) along the channels, and its backward: the split.
///
/// Legend: N batch, C_i channels of part i, H x W image. In NCHW the C H W values of one image
/// are contiguous, so a concatenation is, per image, one block copy per part.
#include <cstddef>
#include <vector>

#include "convbook/tensor.hpp"

namespace convbook {

/// @brief The shape of cat(parts) along the channels, (N, C_0 + ... + C_{m-1}, H, W), after
/// checking that the parts can be joined.
/// @throws Error when there is no part, a pointer is null, or the parts differ in N, H or W
///   (the message names the first part that differs and both shapes).
Shape concat_channels_shape(const std::vector<const Tensor*>& parts);

/// @brief Checks that a tensor of shape `s` can be cut into parts of `channels` channels.
/// @throws Error when `channels` is empty, holds a 0, or does not add up to s's channels.
void check_split_channels(const Shape& s, const std::vector<std::size_t>& channels);

/// @brief y = cat(x_0, ..., x_{m-1}) along the channels: parts of shape (N, C_i, H, W) give
/// y of shape (N, C_0 + ... + C_{m-1}, H, W), part i at channels C_0 + ... + C_{i-1} onwards.
/// @param parts  the tensors to join, in order (pointers, so the parts are not copied first)
/// @throws Error as concat_channels_shape.
Tensor concat_channels(const std::vector<const Tensor*>& parts);

/// @brief The backward of concat_channels: dy (N, C_0 + ... + C_{m-1}, H, W) cut back into
/// the m gradients (N, C_i, H, W). Each value of y is a copy of one input value, so each
/// gradient goes back to where its value came from, unchanged: no sums.
/// @param dy        dL/dy
/// @param channels  C_0, ..., C_{m-1}
/// @return dL/dx_i for each part
/// @throws Error as check_split_channels.
std::vector<Tensor> split_channels(const Tensor& dy, const std::vector<std::size_t>& channels);

}  // namespace convbook
