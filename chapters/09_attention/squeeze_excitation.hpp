#pragma once
/// @file squeeze_excitation.hpp
/// @brief The squeeze-and-excitation block (Hu, Shen and Sun, CVPR 2018) with a hand-written
/// backward pass through the product of the input and its channel weights.
///
/// Legend: N batch, C channels, H x W image, L = H W, Cr = C / r squeeze channels.
///
///     squeeze:     z = mean over H x W of x                (N, C, 1, 1)
///     excitation:  e = sigmoid(fc2(relu(fc1(z))))          fc1: C -> Cr, fc2: Cr -> C
///     scale:       y = x * e, e broadcast over H x W       (N, C, H, W)
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief torch.nn.Sigmoid as a Module: y = 1 / (1 + exp(-x)); backward from its output.
class Sigmoid : public Module {
 public:
  /// @brief y = sigmoid(x); caches y.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = dy y (1 - y).
  Tensor backward(const Tensor& dy) override;
  /// @brief "Sigmoid()".
  std::string repr() const override { return "Sigmoid()"; }

 private:
  Tensor y_;
};

/// @brief C / r, the hidden width of an attention block's bottleneck (SE's excitation, CBAM's
/// shared MLP), checked.
/// @param block the block's name for the message, e.g. "SqueezeExcitation(64, reduction=16)"
/// @param channels C, the channels the block gates
/// @param reduction r, the bottleneck's reduction ratio
/// @throws Error naming `block` when channels or reduction is 0 or reduction > channels.
std::size_t reduced_channels(const std::string& block, std::size_t channels, std::size_t reduction);

/// @brief Checks that an attention block's input x has C channels.
/// @throws Error naming `block` (its repr), x's shape and C otherwise.
void check_block_input(const Module& block, const Tensor& x, std::size_t C);

/// @brief Checks that dy has the shape of the last forward input x (gates keep the shape).
/// @throws Error naming `block`, dy's shape and x's, or that forward was not called.
void check_block_grad(const Module& block, const Tensor& dy, const Tensor& x);

/// @brief The SE block as torchvision.ops.SqueezeExcitation writes it: the two fully
/// connected layers are 1x1 convolutions with bias, so the state_dict is `fc1.weight`
/// (Cr, C, 1, 1), `fc1.bias` (Cr), `fc2.weight` (C, Cr, 1, 1), `fc2.bias` (C).
///
/// Two paths compute the same numbers: the naive one (set_naive(true)) runs each step of
/// the formulas as its own pass, the default fuses the backward's product and pool steps
/// into one pass (attention_ops.hpp).
class SqueezeExcitation : public Module {
 public:
  /// @brief A block over `channels` (C) with reduction ratio `reduction` (r): Cr = C / r.
  /// @throws Error when channels or reduction is 0 or r > C (no squeeze channel left).
  SqueezeExcitation(std::size_t channels, std::size_t reduction = 16);

  /// @brief y = x * e(x); caches x, e and the excitation's layers.
  /// @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = dy * e + (the squeeze's share of de); accumulates fc1's and fc2's gradients.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "SqueezeExcitation(64, reduction=16, squeeze_channels=4)".
  std::string repr() const override;
  /// @brief The 1x1 layers' FLOPs plus N C L for the squeeze and N C L for the scale.
  double flops() const override;

  /// @brief Use the naive kernels (true) or the fused ones (false, the default).
  void set_naive(bool on) { naive_ = on; }
  /// @brief The channel weights e (N, C, 1, 1) of the last forward: what the block decided.
  const Tensor& excitation() const { return e_; }

  Conv2d fc1;    ///< 1x1, C -> Cr, with bias
  ReLU relu;     ///< between fc1 and fc2
  Conv2d fc2;    ///< 1x1, Cr -> C, with bias
  Sigmoid gate;  ///< e = sigmoid(fc2 output)

 private:
  std::size_t C_, r_;
  bool naive_ = false;
  Tensor x_, e_;  // cached by forward
};

}  // namespace convbook
