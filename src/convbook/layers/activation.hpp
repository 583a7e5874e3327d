#pragma once
/// @file activation.hpp
/// @brief ReLU, the activation of every network in the book.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "convbook/module.hpp"

namespace convbook {

/// @brief y[i] = max(x[i], 0), elementwise over `n` values.
template <typename T>
void relu_forward(const T* x, T* y, std::size_t n);

/// @brief dx[i] = dy[i] where y[i] > 0, else 0 (the subgradient 0 is taken at x = 0, as PyTorch).
///
/// Uses the forward *output* y: y > 0 exactly where x > 0, and y is what a layer keeps anyway.
template <typename T>
void relu_backward(const T* y, const T* dy, T* dx, std::size_t n);

/// @brief relu_forward that also records active[i] = (x[i] > 0), for relu_backward_mask.
///
/// The layer's kernel: OpenMP threads over large n, one byte per value kept for backward.
template <typename T>
void relu_forward_mask(const T* x, T* y, std::uint8_t* active, std::size_t n);

/// @brief dx[i] = dy[i] where active[i], else 0: relu_backward from the recorded gate.
template <typename T>
void relu_backward_mask(const std::uint8_t* active, const T* dy, T* dx, std::size_t n);

/// @brief y = max(a + b, 0) and active[i] = (y[i] > 0) over `n` values: relu_forward_mask of a
/// sum, in one pass (y may be a).
template <typename T>
void add_relu_forward_mask(const T* a, const T* b, T* y, std::uint8_t* active, std::size_t n);

/// @brief torch.nn.ReLU: max(x, 0) elementwise on any 4-D tensor.
class ReLU : public Module {
 public:
  /// @brief y = max(x, 0); keeps where x > 0 (unless under NoGradGuard).
  Tensor forward(const Tensor& x) override;
  /// @brief The same on a temporary, in its own memory: no second 8 MB buffer to touch.
  Tensor forward(Tensor&& x);
  /// @brief y = max(a + b, 0) in a's memory, in one pass: a residual block's sum and its ReLU
  /// (backward is the ReLU's; the sum's gradient is the caller's to pass to both addends).
  /// a and b must have the same shape (checked by the caller, who can name them).
  Tensor forward_sum(Tensor&& a, const Tensor& b);
  /// @brief dx = dy where the input was positive, 0 elsewhere.
  Tensor backward(const Tensor& dy) override;
  /// @brief The same on a temporary dy, in its memory.
  Tensor backward(Tensor&& dy);
  /// @brief "ReLU()".
  std::string repr() const override { return "ReLU()"; }

 private:
  // y = relu(x) or dx = gate(dy) into y / dx, which may be x / dy itself (in place)
  Tensor run_forward(const Tensor& x, Tensor& y);
  Tensor run_backward(const Tensor& dy, Tensor& dx);

  std::vector<std::uint8_t> active_;  // x > 0, one byte per value of the last forward
  Shape shape_{};
  bool has_mask_ = false;
};

}  // namespace convbook
