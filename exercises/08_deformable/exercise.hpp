#pragma once
/// @file exercise.hpp
/// @brief Chapter 08's exercises: bilinear sampling and its gradient with respect to the
/// position, one column of the deformable im2col, and the offset gradient of one output.
///
/// Legend: C channels, H x W input, R x S kernel, (p, q) one output position.
/// `make exercise CH=08` checks your exercise.cpp against the framework (check.cpp); the
/// book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex08 {

/// @brief The sampling geometry of one output position (p, q): kernel R x S, stride, padding
/// and dilation (the same on both axes), one offset group.
struct Window {
  int H, W;  ///< input size
  int R, S;  ///< kernel size
  int stride, pad, dilation;
  int p, q;  ///< the output position
};

/// @brief Exercise 08.1a: x(h, v) of one (H, W) plane by bilinear interpolation, as
/// torchvision samples: 0 when h <= -1, h >= H, v <= -1 or v >= W; pixels outside count as 0.
float bilinear(const std::vector<float>& plane, int H, int W, float h, float v);

/// @brief Exercise 08.1b: (d x(h, v)/dh, d x(h, v)/dv). At an integer coordinate use the
/// derivative from the right (rows floor(h) and floor(h) + 1), as torchvision does; pixels
/// outside the plane count as 0.
std::vector<float> bilinear_position_grad(const std::vector<float>& plane, int H, int W, float h,
                                          float v);

/// @brief Exercise 08.2: one column of the deformable im2col, the C*R*S values output (p, q)
/// multiplies with the weights: entry (c*R + r)*S + s is m_k * x_c(h, v) with k = r*S + s,
/// h = p*stride - pad + r*dilation + offset[2k], v = q*stride - pad + s*dilation +
/// offset[2k + 1].
/// @param x       (C, H, W)
/// @param offset  the 2*R*S offsets of (p, q): (dy, dx) for each tap
/// @param mask    the R*S mask values of (p, q)
std::vector<float> deformable_column(const std::vector<float>& x, int C, const Window& win,
                                     const std::vector<float>& offset,
                                     const std::vector<float>& mask);

/// @brief Exercise 08.3: the gradient of L with respect to the 2*R*S offsets of (p, q), given
/// dcol, the gradient of L with respect to that column (C*R*S values).
std::vector<float> offset_gradient(const std::vector<float>& x, int C, const Window& win,
                                   const std::vector<float>& offset, const std::vector<float>& mask,
                                   const std::vector<float>& dcol);

}  // namespace convbook::ex08
