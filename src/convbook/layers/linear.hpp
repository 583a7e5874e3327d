#pragma once
/// @file linear.hpp
/// @brief Linear (fully connected) layer: y = x W^T + b, on (N, C, 1, 1) activations.
///
/// Legend: N batch, C in-features, K out-features.
#include <cstddef>
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief y[n][k] = sum_c x[n][c] * w[k][c] + b[k].
///
/// Shapes: x (N, C), w (K, C), b (K) or nullptr, y (N, K); all row-major.
template <typename T>
void linear_forward(const T* x, const T* w, const T* b, T* y, std::size_t N, std::size_t C,
                    std::size_t K);

/// @brief The three gradients of linear_forward: dx = dy W, dw += dy^T x, db += sum_n dy.
///
/// Shapes: x (N, C), w (K, C), dy (N, K), dx (N, C) overwritten, dw (K, C) and db (K)
/// accumulated (+=); db may be nullptr when there is no bias.
template <typename T>
void linear_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t N,
                     std::size_t C, std::size_t K);

/// @brief torch.nn.Linear on 4-D activations of shape (N, in_features, 1, 1).
///
/// Parameters: `weight` of PyTorch shape {K, C} and `bias` of shape {K}, both initialized as
/// PyTorch does: U(-1/sqrt(C), 1/sqrt(C)) from global_rng() (kaiming_uniform_ with a = sqrt(5)).
class Linear : public Module {
 public:
  /// @brief A layer from `in_features` (C) to `out_features` (K).
  /// @throws Error when either size is 0.
  Linear(std::size_t in_features, std::size_t out_features, bool bias = true);

  /// @brief x (N, C, 1, 1) -> y (N, K, 1, 1); caches x.
  /// @throws Error when x is not (N, in_features, 1, 1).
  Tensor forward(const Tensor& x) override;
  /// @brief dy (N, K, 1, 1) -> dx (N, C, 1, 1); accumulates weight.grad and bias.grad.
  Tensor backward(const Tensor& dy) override;
  /// @brief "Linear(in_features=C, out_features=K, bias=True)".
  std::string repr() const override;
  /// @brief 2 N C K of the last forward.
  double flops() const override;

  std::size_t in_features() const { return in_; }    ///< C
  std::size_t out_features() const { return out_; }  ///< K
  bool has_bias() const { return has_bias_; }        ///< whether `bias` is used and registered

  Parameter weight;  ///< PyTorch shape {K, C}
  Parameter bias;    ///< PyTorch shape {K}; not registered when bias = false

 private:
  std::size_t in_, out_;
  bool has_bias_;
  Tensor x_;  // cached input (empty under NoGradGuard)
  std::size_t last_batch_ = 0;  // N of the last forward
};

}  // namespace convbook
