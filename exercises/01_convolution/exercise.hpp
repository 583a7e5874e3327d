#pragma once
/// @file exercise.hpp
/// @brief Chapter 01's exercises: the output size, col2im, the weight gradient by hand,
/// Winograd's F(2, 3), a packed GEMM panel and the depthwise 3x3 factored into rows.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups. Arrays are plain row-major std::vector<float>. `make exercise CH=01` checks your
/// exercise.cpp against the framework (check.cpp); the book's answers are in solution.cpp.
#include <array>
#include <cstddef>
#include <vector>

#include "convbook/conv/conv_naive.hpp"  // ConvGeometry: N, C, H, W, K, R, S, strides, ...

namespace convbook::ex01 {

/// @brief Exercise 01.1: the output size of a convolution along one dimension.
/// @param in        input size (H or W)
/// @param kernel    kernel size (R or S)
/// @param stride    step between two outputs (>= 1)
/// @param padding   zeros added on each side
/// @param dilation  spacing of the kernel taps (1 = dense)
/// @return the number of outputs, as nn.Conv2d computes it; 0 when the dilated kernel does
///   not fit in the padded input
std::size_t conv_output_size(std::size_t in, std::size_t kernel, std::size_t stride,
                             std::size_t padding, std::size_t dilation);

/// @brief Exercise 01.2: col2im, the adjoint of im2col, for one image and one group.
/// @param g    sizes and options (stride, padding, dilation); the group has Cg = g.C / g.G
///             channels, P = g.P() and Q = g.Q()
/// @param col  (Cg*R*S, P*Q): entry [(c*R + r)*S + s][p*Q + q] belongs to the input pixel that
///             tap (r, s) of channel c sees at output (p, q)
/// @return x (Cg, H, W): each pixel the sum of the col entries that came from it (entries
///   that came from the padding are dropped)
std::vector<float> col2im(const ConvGeometry& g, const std::vector<float>& col);

/// @brief Exercise 01.3: the weight gradient of a convolution, with loops.
/// @param g   sizes and every option, groups included
/// @param x   the forward input (N, C, H, W)
/// @param dy  the upstream gradient dL/dy (N, K, P, Q)
/// @return dL/dw (K, C/G, R, S)
std::vector<float> conv2d_backward_weight(const ConvGeometry& g, const std::vector<float>& x,
                                          const std::vector<float>& dy);

/// @brief Exercise 01.4: Winograd's 1-D F(2, 3), two outputs of a 3-tap filter with 4
/// multiplications that involve the data (interpolation points 0, 1, -1, infinity).
/// @param d  four inputs d0..d3
/// @param g  the filter g0..g2
/// @return y0 = d0 g0 + d1 g1 + d2 g2 and y1 = d1 g0 + d2 g1 + d3 g2
std::array<float, 2> winograd_f2x3_1d(const std::array<float, 4>& d, const std::array<float, 3>& g);

/// @brief Exercise 01.5: pack one sliver of op(A) for a GEMM microkernel, as gemm_packed does.
/// @param trans_a  false: A is stored M x K (row-major, leading dimension lda); true: A is
///                 stored K x M and op(A) = A^T
/// @param A        the stored matrix
/// @param lda      its leading dimension (elements between consecutive stored rows)
/// @param M        rows of op(A)
/// @param i0       first row of op(A) in the sliver
/// @param p0       first depth (column of op(A)) in the sliver
/// @param kc       number of depths
/// @param mr       rows per sliver (the microkernel's MR)
/// @return kc * mr values: element (i0 + r, p0 + p) of op(A) at index p * mr + r, so that the
///   microkernel reads mr consecutive values per step of p; rows past M are zeros
std::vector<float> pack_a_sliver(bool trans_a, const std::vector<float>& A, int lda, int M, int i0,
                                 int p0, int kc, int mr);

/// @brief Exercise 01.6: the 3x3 depthwise convolution with padding 1 of one plane, computed
/// as the small-plane kernel does: the plane moved by one column (h_0, h_2), the kernel's three
/// row sums of those, then the first and last row sums moved by one row.
/// @param H  rows of the plane
/// @param W  columns of the plane
/// @param x  the plane, H*W values, row-major
/// @param w  the filter, w[r*3 + s] for row r and column s
/// @return y, H*W values: y[p][q] = sum over r, s of w[r][s] x[p + r - 1][q + s - 1], the
///   terms outside the plane left out
std::vector<float> depthwise3x3_by_rows(int H, int W, const std::vector<float>& x,
                                        const std::array<float, 9>& w);

/// @brief Exercise 01.6, backward: the weight gradient of depthwise3x3_by_rows, from dy moved
/// by rows and x moved by columns.
/// @param H   rows of the plane
/// @param W   columns of the plane
/// @param x   the forward input, H*W values
/// @param dy  the upstream gradient dL/dy, H*W values
/// @return dw, dw[r*3 + s] = sum over p, q of dy[p][q] x[p + r - 1][q + s - 1] (inside terms)
std::array<float, 9> depthwise3x3_weight_grad_by_rows(int H, int W, const std::vector<float>& x,
                                                      const std::vector<float>& dy);

}  // namespace convbook::ex01
