#pragma once
/// @file sequential.hpp
/// @brief Sequential: children applied in order; backward walks them in reverse.
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "convbook/module.hpp"

namespace convbook {

/// @brief torch.nn.Sequential: owns its children and chains them.
///
/// Children added with push_back are named "0", "1", ... by position, so parameters get
/// PyTorch's state_dict names ("0.weight", "features.3.bias" when nested).
class Sequential : public Module {
 public:
  Sequential() = default;

  /// @brief Appends `m` under the name of its position ("0", "1", ...).
  /// @throws Error when `m` is null.
  void push_back(ModulePtr m);
  /// @brief Appends `m` under `name` (like an OrderedDict passed to nn.Sequential).
  /// @throws Error when `m` is null or `name` is empty, contains '.', or is already used.
  void add(const std::string& name, ModulePtr m);
  /// @brief Constructs an M from `args`, appends it with push_back and returns it.
  template <class M, class... A>
  M& emplace(A&&... args) {
    auto m = std::make_unique<M>(std::forward<A>(args)...);
    M& ref = *m;
    push_back(std::move(m));
    return ref;
  }
  /// @brief Number of children.
  std::size_t size() const { return layers_.size(); }
  /// @brief The i-th child.
  /// @throws Error when i >= size().
  Module& operator[](std::size_t i);

  /// @brief Feeds x through every child in order.
  Tensor forward(const Tensor& x) override;
  /// @brief Feeds dy back through every child in reverse order (the chain rule, step by step).
  Tensor backward(const Tensor& dy) override;
  /// @brief PyTorch's multi-line form: "Sequential(\n  (0): Linear(...)\n  (1): ReLU()\n)".
  std::string repr() const override;

 private:
  std::vector<ModulePtr> layers_;
};

}  // namespace convbook
