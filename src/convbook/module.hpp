#pragma once
/// @file module.hpp
/// @brief Module: forward, a hand-written backward, named parameters. No autograd tape.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convbook/tensor.hpp"

namespace convbook {

/// @brief A learnable tensor (or a buffer) with its gradient and its PyTorch shape.
///
/// Storage is always a 4-D Tensor so kernels see one type; `shape` keeps the shape PyTorch
/// gives the same tensor (e.g. {K} for a bias, {K, C} for a Linear weight) so checkpoints map
/// 1:1 to a torchvision state_dict.
struct Parameter {
  Tensor value;                ///< the values, 4-D (trailing dimensions of size 1 when fewer)
  Tensor grad;                 ///< same shape as value; empty (size 0) for buffers
  std::vector<std::size_t> shape;  ///< PyTorch's shape of the same tensor
  bool is_buffer = false;      ///< buffers (BN running stats) are saved but not trained

  /// @brief A trainable parameter of PyTorch shape `shape` (1 to 4 dims), zero-filled.
  static Parameter make(std::vector<std::size_t> shape);
  /// @brief A buffer (no gradient) of PyTorch shape `shape`, zero-filled.
  static Parameter make_buffer(std::vector<std::size_t> shape);
  /// @brief Number of scalars.
  std::size_t numel() const { return value.size(); }
  /// @brief Sets grad to zero (no-op for buffers).
  void zero_grad();
};

/// @brief Called once per parameter or buffer with its full state_dict name.
using ParamVisitor = std::function<void(const std::string& name, Parameter& p)>;

/// @brief True unless a NoGradGuard is alive: forward passes then keep what backward needs.
///
/// torch.is_grad_enabled(). Evaluation and inference run without it: no layer copies its input
/// for a backward that will never come.
bool grad_enabled();

/// @brief torch.no_grad() as a scope: while the guard lives, forward passes cache nothing and
/// a backward through them throws. Guards nest; each restores the mode it found.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// @brief The base class of every layer, block and model.
///
/// Contract:
/// - `forward(x)` computes y and caches what backward needs (in training mode it must be
///   followed by at most one `backward`).
/// - `backward(dy)` returns dx and *accumulates* (+=) into the parameters' grads.
/// - children and parameters are registered in the constructor, in PyTorch's order, so
///   `visit_parameters` yields state_dict names like `layer1.0.conv1.weight`.
class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// @brief y = f(x); caches what backward needs.
  virtual Tensor forward(const Tensor& x) = 0;
  /// @brief dx from dy (chain rule); accumulates parameter gradients.
  virtual Tensor backward(const Tensor& dy) = 0;
  /// @brief A one-line description like PyTorch's repr: "Conv2d(3, 16, kernel_size=(3, 3), ...)".
  virtual std::string repr() const = 0;

  /// @brief Multiply-adds x 2 of the last forward call (0 for layers without arithmetic worth
  /// counting). The default sums the children.
  virtual double flops() const;

  /// @brief Visits own parameters and buffers, then the children's, with `prefix` prepended.
  virtual void visit_parameters(const ParamVisitor& f, const std::string& prefix = "");
  /// @brief Switches training mode (BatchNorm, Dropout) here and in every child.
  virtual void train(bool on = true);
  /// @brief Same as train(false).
  void eval() { train(false); }
  /// @brief True in training mode (the default).
  bool training() const { return training_; }

  /// @brief The registered children, in order, with their names.
  const std::vector<std::pair<std::string, Module*>>& children() const { return children_; }

  /// @brief Sets every parameter's gradient to zero.
  void zero_grad();
  /// @brief Number of trainable scalars (buffers not counted).
  std::size_t num_parameters();

 protected:
  /// @brief Makes `p` visible under `name` (e.g. "weight"); `p` must outlive this module.
  void register_parameter(const std::string& name, Parameter* p);
  /// @brief Makes `child` visible under `name` (e.g. "conv1", "0"); it must outlive this module.
  void register_module(const std::string& name, Module* child);

  bool training_ = true;

 private:
  std::vector<std::pair<std::string, Parameter*>> params_;
  std::vector<std::pair<std::string, Module*>> children_;
};

/// @brief An owning pointer to a module; the usual way to hold children.
using ModulePtr = std::unique_ptr<Module>;

}  // namespace convbook
