#pragma once
/// @file tensor.hpp
/// @brief The tensor type: a 4-D xtensor in NCHW order.
///
/// Legend used across convbook: N batch, C in-channels, K out-channels, H x W input,
/// P x Q output, R x S kernel, G groups.
///
/// Every activation is 4-D: a linear layer sees (N, C, 1, 1). Hot kernels take raw pointers
/// (`x.data()`) and sizes, never xtensor views in inner loops.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace convbook {

/// @brief The scalar type of the whole framework.
///
/// `float` in the normal build. The test build `convbook_f64` compiles the same sources with
/// CONVBOOK_DOUBLE defined so every layer and block can be gradient-checked in double.
#ifdef CONVBOOK_DOUBLE
using Scalar = double;
#else
using Scalar = float;
#endif

/// @brief A 4-D NCHW tensor of Scalar.
using Tensor = xt::xtensor<Scalar, 4>;
/// @brief The shape of a Tensor: (N, C, H, W).
using Shape = std::array<std::size_t, 4>;

/// @brief A tensor of the given shape filled with zeros.
Tensor zeros(const Shape& shape);
/// @brief The shape of a tensor as a Shape.
Shape shape_of(const Tensor& t);
/// @brief Number of elements of a shape.
std::size_t numel(const Shape& shape);
/// @brief "(N, C, H, W)" for messages and tables.
std::string to_string(const Shape& shape);
/// @brief "[d0, d1, ...]": a shape of any rank (a PyTorch shape) for messages.
std::string to_string(const std::vector<std::size_t>& shape);

}  // namespace convbook
