#pragma once
/// @file wide_resnet.hpp
/// @brief Wide Residual Networks (Zagoruyko & Komodakis 2016): the pre-activation block
/// B(3,3) with dropout between its two convolutions, and WRN-n-k for CIFAR.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output. The block
/// computes y = F(x) + shortcut, *without* a ReLU after the sum (pre-activation, He et al.
/// 2016b): every BatchNorm and ReLU sits on the residual path, in front of its convolution.
///
/// state_dict names follow the authors' PyTorch code (functional, its parameters a flat dict):
/// conv0, group0.block0.bn0, group0.block0.conv0, ..., group0.block0.convdim, bn, fc; their
/// `group0.block0.conv0` is our `group0.block0.conv0.weight`.
#include <cstddef>
#include <memory>
#include <string>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/dropout.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief The wide basic block B(3,3) of the authors' code, pre-activation:
///
///     o1 = ReLU(bn0(x))
///     z  = conv1(dropout(ReLU(bn1(conv0(o1)))))        conv0: 3x3, stride; conv1: 3x3
///     y  = z + x                 when C == K and stride == 1
///     y  = z + convdim(o1)       otherwise (1x1, stride, no BN)
///
/// Two details follow the authors' Lua and PyTorch code rather than the common re-implementations:
/// the projection shortcut takes the *pre-activated* o1, not x (in the Lua code bn0-ReLU move in
/// front of the ConcatTable when C != K); and dropout sits after the second ReLU, right in front
/// of conv1 ("after ReLU to perturb batch normalization in the next residual block", sec. 2.4).
/// All convolutions have no bias.
///
/// state_dict: bn0.* (C), conv0.weight (K, C, 3, 3), bn1.* (K), conv1.weight (K, K, 3, 3),
/// convdim.weight (K, C, 1, 1) when the shape changes.
class WideBasic : public Module {
 public:
  /// @param in_planes  C
  /// @param out_planes K
  /// @param stride     of conv0 and of convdim
  /// @param dropout    drop probability in [0, 1); 0 disables it
  /// @throws Error when a size or the stride is 0, or dropout is outside [0, 1).
  WideBasic(std::size_t in_planes, std::size_t out_planes, std::size_t stride = 1,
            double dropout = 0);
  /// @brief y = F(x) + shortcut; caches what backward needs.
  Tensor forward(const Tensor& x) override;
  /// @brief dx through both paths; accumulates every parameter's gradient.
  /// @throws Error when dy does not have the last forward output's shape.
  Tensor backward(const Tensor& dy) override;
  /// @brief "WideBasic(16, 64, stride=1, dropout=0.3, shortcut=convdim)".
  std::string repr() const override;
  /// @brief True when the shortcut is the 1x1 convdim (C != K or stride != 1).
  bool has_projection() const { return convdim != nullptr; }

  BatchNorm2d bn0;                  ///< over C, pre-activation of the block's input
  ReLU relu0;                       ///< o1 = relu0(bn0(x))
  Conv2d conv0;                     ///< 3x3, C -> K, stride
  BatchNorm2d bn1;                  ///< over K
  ReLU relu1;                       ///< after bn1
  Dropout dropout;                  ///< in front of conv1 (identity when p = 0 or in eval)
  Conv2d conv1;                     ///< 3x3, K -> K
  std::unique_ptr<Conv2d> convdim;  ///< 1x1, C -> K, stride, on o1; null: identity shortcut

 private:
  std::size_t C_, K_, stride_;
  Shape out_shape_{};
};

/// @brief WRN-depth-width for CIFAR (the authors' `resnet(depth, width, num_classes)`):
/// conv0 3x3 3 -> 16, three groups of n = (depth - 4) / 6 WideBasic blocks with 16k, 32k, 64k
/// channels at 32x32, 16x16, 8x8 (the first block of group1 and group2 strides 2), then
/// bn - ReLU - global average pool - fc. WRN-16-4 has 2,748,890 parameters, WRN-28-10
/// 36,479,194 (10 classes).
/// @param depth       n = 6 N + 4 (10, 16, 22, 28, 40, ...), as the authors' code asserts
/// @param width       k, the widening factor (1 is the thin pre-activation ResNet)
/// @param dropout     p of the dropout inside every block, in [0, 1)
/// @param num_classes outputs of fc
/// @param base        conv0's channels and group0's at k = 1: 16 in the paper; the tests use
///                    smaller ones to keep PyTorch fixtures small (widths base k, 2 base k,
///                    4 base k)
/// @throws Error naming the argument when (depth - 4) % 6 != 0 or depth < 10, width == 0,
///   dropout is outside [0, 1), num_classes == 0 or base == 0.
ModulePtr wide_resnet(std::size_t depth, std::size_t width, double dropout = 0,
                      std::size_t num_classes = 10, std::size_t base = 16);

}  // namespace convbook
