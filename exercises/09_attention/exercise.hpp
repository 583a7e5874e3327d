#pragma once
/// @file exercise.hpp
/// @brief Chapter 09's exercises: the backward of a gate's product, ResNeSt's r-softmax and its
/// backward, the backward of CBAM's channel pool, what SE and CBAM cost, and the backward of
/// SK's and split attention's select.
///
/// Legend: N batch, C channels, H x W image, L = H W, r reduction, Cr = C / r, G cardinality,
/// R radix (or SK's branches), J channels per split and group. Arrays are plain row-major
/// std::vector<float>. `make exercise CH=09` checks your exercise.cpp against the framework
/// (check.cpp); the book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex09 {

/// @brief The two gradients of y = x * s with s broadcast over each H x W plane.
struct ProductGrads {
  std::vector<float> dx;  ///< dL/dx through the product only, (N, C, L)
  std::vector<float> ds;  ///< dL/ds, (N, C)
};

/// @brief Exercise 09.1: the backward of SE's scale step y[n][c][l] = x[n][c][l] s[n][c].
/// @param x   (N, C, L) the block's input
/// @param s   (N, C) the excitation
/// @param dy  (N, C, L) dL/dy
ProductGrads channel_product_backward(const std::vector<float>& x, const std::vector<float>& s,
                                      const std::vector<float>& dy, std::size_t N, std::size_t C,
                                      std::size_t L);

/// @brief Exercise 09.1 (continued): SE's whole input gradient, given dz = dL/dz for the
/// squeezed z = mean over the plane of x (what the excitation's backward returned):
/// the product's dx plus the mean's share.
/// @param s   (N, C)
/// @param dy  (N, C, L)
/// @param dz  (N, C)
std::vector<float> se_input_gradient(const std::vector<float>& s, const std::vector<float>& dy,
                                     const std::vector<float>& dz, std::size_t N, std::size_t C,
                                     std::size_t L);

/// @brief Exercise 09.2: r-softmax. x is (N, G R J) read as (N, G, R, J); return y of the
/// same size in the order (N, R, G, J), y = the softmax over r of x at each (n, g, j). For
/// R = 1, the sigmoid of x.
std::vector<float> rsoftmax(const std::vector<float>& x, std::size_t N, std::size_t G,
                            std::size_t R, std::size_t J);

/// @brief Exercise 09.2 (continued): dL/dx (order (N, G, R, J)) from y = rsoftmax(x) and dy
/// (both in the order (N, R, G, J)).
std::vector<float> rsoftmax_backward(const std::vector<float>& y, const std::vector<float>& dy,
                                     std::size_t N, std::size_t G, std::size_t R, std::size_t J);

/// @brief Exercise 09.3: the backward of CBAM's channel pool out[n][0][l] = max_c x[n][c][l],
/// out[n][1][l] = mean_c x[n][c][l].
/// @param x     (N, C, L) the pool's input (find the winning channels from it)
/// @param dout  (N, 2, L) dL/dout
/// @return dL/dx, (N, C, L)
std::vector<float> channel_pool_backward(const std::vector<float>& x,
                                         const std::vector<float>& dout, std::size_t N,
                                         std::size_t C, std::size_t L);

/// @brief What `convbook info` reports for a block on one image.
struct Cost {
  std::size_t params = 0;  ///< trainable scalars (BN's running statistics excluded)
  double flops = 0;        ///< as the library counts them: see exercise 09.4 in README.md
};

/// @brief Exercise 09.4: the cost of SqueezeExcitation(C, r) on one (C, H, W) image.
Cost se_cost(std::size_t C, std::size_t r, std::size_t H, std::size_t W);

/// @brief Exercise 09.4 (continued): the cost of CBAM(C, r, k) on one (C, H, W) image.
Cost cbam_cost(std::size_t C, std::size_t r, std::size_t k, std::size_t H, std::size_t W);

/// @brief The two gradients of the select V = sum_r a_r * U_r.
struct SelectGrads {
  std::vector<float> du;  ///< dL/dU, stacked like u: (N, R C, L)
  std::vector<float> da;  ///< dL/da, (N, R C)
};

/// @brief Exercise 09.5: the backward of SK's and split attention's select,
/// v[n][c][l] = sum_r a[n][r C + c] u[n][r C + c][l].
/// @param u   (N, R C, L) the R splits stacked, split r at channels [r C, (r + 1) C)
/// @param a   (N, R C) one weight per split and channel (the r-softmax's output)
/// @param dv  (N, C, L) dL/dv
SelectGrads select_backward(const std::vector<float>& u, const std::vector<float>& a,
                            const std::vector<float>& dv, std::size_t N, std::size_t R,
                            std::size_t C, std::size_t L);

}  // namespace convbook::ex09
