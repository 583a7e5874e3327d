#pragma once
/// @file exercise.hpp
/// @brief Chapter 07's exercises: the receptive field of a stack by the closed form, the
/// gridding pattern of a stack of dilations, and the index map of a dilated im2col.
///
/// Legend: k kernel, s stride, d dilation, H x W input, P x Q output, R x S kernel.
/// `make exercise CH=07` checks your exercise.cpp against the framework (check.cpp); the
/// book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex07 {

/// @brief Exercise 07.1: the receptive field's side of a stack of square convolutions.
/// @param kernels    k of each layer, first layer first
/// @param strides    s of each layer
/// @param dilations  d of each layer
/// @return RF = 1 + sum_l (k_l - 1) d_l prod_{i<l} s_i
std::size_t receptive_field(const std::vector<std::size_t>& kernels,
                            const std::vector<std::size_t>& strides,
                            const std::vector<std::size_t>& dilations);

/// @brief Exercise 07.2: the gridding pattern, in one dimension.
///
/// A stack of stride-1 convolutions of kernel k with the given dilations. Along one axis, input
/// offset o (relative to the output's centre) reaches the output when o = sum_l t_l d_l for
/// some taps t_l in {-(k-1)/2, ..., (k-1)/2}.
/// @param kernel     k, odd
/// @param dilations  d of each layer
/// @return reached, of size RF: reached[i] is true when offset i - (RF-1)/2 reaches the output
std::vector<bool> reached_offsets(std::size_t kernel, const std::vector<std::size_t>& dilations);

/// @brief Exercise 07.3: the index map of a dilated im2col, for one channel.
///
/// The column matrix of one input channel has R*S rows, row = r*S + s (tap r, s), and P*Q
/// columns, col = p*Q + q (output p, q). Entry (row, col) is the input pixel
/// (p*stride + r*dilation - pad, q*stride + s*dilation - pad) or zero when that is outside.
/// @return the flat input index h*W + w of entry (row, col), or -1 for a padding zero
long im2col_source(std::size_t H, std::size_t W, std::size_t R, std::size_t S, std::size_t stride,
                   std::size_t pad, std::size_t dilation, std::size_t row, std::size_t col);

}  // namespace convbook::ex07
