#pragma once
/// @file rsoftmax.hpp
/// @brief r-softmax, ResNeSt's attention normalization (Zhang et al. 2020, the rSoftMax
/// module of the official code): a softmax across the R radix splits, separately for each
/// cardinal group and channel, so the R weights of one channel sum to one.
///
/// Legend: N batch, G cardinality (groups), R radix (splits), J channels per split and group.
/// The input is (N, G R J) read as (N, G, R, J), as PyTorch's
/// `x.view(N, G, R, -1).transpose(1, 2)`; the output is (N, R G J) in the order (N, R, G, J),
/// so that split r's weights for all groups are one contiguous block of G J values.
/// The input order is how ResNeSt's fc2 (a 1x1 convolution with G groups) writes its logits,
/// group by group; the output order is the stacked splits of sk_select.hpp, a[n][r C + g J + j]
/// with C = G J, which weighted_sum_splits reads. With G = 1 the two orders coincide: SK's
/// case (SelectiveKernel calls this with G = 1 and R = M branches).
/// With R = 1 there is nothing to choose between and the official code uses a sigmoid instead.
#include <cstddef>
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief y[n][r][g][j] = exp(x[n][g][r][j]) / sum_r' exp(x[n][g][r'][j]) for R > 1,
/// sigmoid(x) (same layout) for R = 1. Shapes: x, y N G R J values, distinct buffers.
template <typename T>
void rsoftmax_forward(const T* x, T* y, std::size_t N, std::size_t G, std::size_t R, std::size_t J);

/// @brief The backward of rsoftmax_forward from its output y:
/// dx[n][g][r][j] = y[r] (dy[r] - sum_r' y[r'] dy[r']) at (n, g, j) for R > 1 (the softmax
/// Jacobian diag(y) - y y^T applied to dy), dy y (1 - y) for R = 1. dx overwritten.
template <typename T>
void rsoftmax_backward(const T* y, const T* dy, T* dx, std::size_t N, std::size_t G, std::size_t R,
                       std::size_t J);

/// @brief rSoftMax(radix, cardinality) as a Module on (N, G R J, 1, 1) attention logits.
class RSoftmax : public Module {
 public:
  /// @throws Error when radix or cardinality is 0.
  RSoftmax(std::size_t radix, std::size_t cardinality);
  /// @brief y = rsoftmax(x); x must be (N, C, 1, 1) with C divisible by R G.
  /// @throws Error naming the shape otherwise.
  Tensor forward(const Tensor& x) override;
  /// @brief dx from dy through the softmax Jacobian.
  Tensor backward(const Tensor& dy) override;
  /// @brief "RSoftmax(radix=2, cardinality=1)".
  std::string repr() const override;

 private:
  std::size_t R_, G_;
  Tensor y_;
};

}  // namespace convbook
