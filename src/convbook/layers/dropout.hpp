#pragma once
/// @file dropout.hpp
/// @brief Dropout (Srivastava et al. 2014), inverted: scaled at training time, identity in eval.
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/module.hpp"

namespace convbook {

/// @brief torch.nn.Dropout(p): in training each value is zeroed with probability p and the
/// survivors are scaled by 1 / (1 - p), so the expected output equals the input and evaluation
/// needs no rescaling. The mask is drawn from global_rng() (seed it with manual_seed).
class Dropout : public Module {
 public:
  /// @throws Error when p is outside [0, 1).
  explicit Dropout(double p = 0.5);
  /// @brief Training: y = x * mask, mask in {0, 1/(1-p)}; eval: y = x.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = dy * mask (the same mask as the forward), or dy in eval.
  Tensor backward(const Tensor& dy) override;
  /// @brief "Dropout(p=0.5, inplace=False)".
  std::string repr() const override;
  /// @brief The drop probability.
  double p() const { return p_; }

 private:
  double p_;
  Tensor mask_;  // 0 or 1/(1-p) per value; empty after an eval forward
  bool used_mask_ = false;
  Shape in_shape_{};
};

}  // namespace convbook
