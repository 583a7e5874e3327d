#pragma once
/// @file sgd.hpp
/// @brief Stochastic gradient descent exactly as torch.optim.SGD: momentum, dampening,
/// Nesterov, weight decay added to the gradient.
#include <string>
#include <utility>
#include <vector>

#include "convbook/module.hpp"
#include "convbook/tensor.hpp"

namespace convbook {

/// @brief Hyper-parameters of SGD, named as torch.optim.SGD names them.
struct SgdOptions {
  double lr = 0.1;          ///< learning rate (a schedule may change it every step)
  double momentum = 0;      ///< 0 disables the momentum buffer
  double dampening = 0;     ///< scales the new gradient in the buffer by (1 - dampening)
  double weight_decay = 0;  ///< L2 penalty: wd * w is added to the gradient
  bool nesterov = false;    ///< Nesterov momentum (needs momentum > 0 and dampening 0)
};

/// @brief SGD over the trainable parameters of a module (buffers are skipped).
///
/// The momentum buffer of each parameter is created from its first gradient, as PyTorch does,
/// so step 1 with momentum equals plain SGD.
class SGD {
 public:
  /// @brief Optimizes every trainable parameter of `model` (which must outlive this object).
  /// @throws Error for lr < 0, momentum < 0, weight_decay < 0, or Nesterov without momentum.
  SGD(Module& model, const SgdOptions& options);
  /// @brief Optimizes the given named parameters (which must outlive this object).
  SGD(std::vector<std::pair<std::string, Parameter*>> params, const SgdOptions& options);

  /// @brief One update of every parameter from its current grad.
  void step();
  /// @brief Zeroes the gradients of the optimized parameters.
  void zero_grad();

  /// @brief Sets the learning rate used by the next step (schedules call this per iteration).
  void set_lr(double lr);
  /// @brief The current learning rate.
  double lr() const { return options_.lr; }
  /// @brief The options (with the current lr).
  const SgdOptions& options() const { return options_; }

  /// @brief The momentum buffers that exist so far, named "<parameter name>.momentum_buffer",
  /// for saving with the checkpoint.
  std::vector<std::pair<std::string, const Tensor*>> state() const;
  /// @brief Restores a momentum buffer saved by state().
  /// @throws Error when the name matches no parameter or the size differs.
  void load_state(const std::string& name, const std::vector<double>& values);
  /// @brief Number of steps taken (not saved; informational).
  std::size_t steps() const { return steps_; }

 private:
  struct Slot {
    std::string name;
    Parameter* param = nullptr;
    Tensor momentum_buffer;  // empty until the first step (PyTorch's "None")
    bool has_buffer = false;
  };
  std::vector<Slot> slots_;
  SgdOptions options_;
  std::size_t steps_ = 0;
};

}  // namespace convbook
