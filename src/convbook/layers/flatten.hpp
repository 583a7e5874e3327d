#pragma once
/// @file flatten.hpp
/// @brief Flatten: (N, C, H, W) -> (N, C H W, 1, 1), the bridge from convolutions to Linear.
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief torch.nn.Flatten() (start_dim=1): a reshape, so backward is the inverse reshape.
///
/// NCHW storage is row-major, so the C H W values of one sample are already contiguous in the
/// order PyTorch flattens them: no data moves, a Linear after it sees PyTorch's feature order.
class Flatten : public Module {
 public:
  /// @brief (N, C, H, W) -> (N, C H W, 1, 1).
  Tensor forward(const Tensor& x) override;
  /// @brief (N, C H W, 1, 1) -> (N, C, H, W).
  Tensor backward(const Tensor& dy) override;
  /// @brief "Flatten(start_dim=1, end_dim=-1)".
  std::string repr() const override { return "Flatten(start_dim=1, end_dim=-1)"; }

 private:
  Shape in_shape_{};
};

}  // namespace convbook
