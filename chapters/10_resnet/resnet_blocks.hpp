#pragma once
/// @file resnet_blocks.hpp
/// @brief The residual blocks of torchvision's resnet.py (He et al. 2016) with hand-written
/// backward passes: conv3x3 / conv1x1, BasicBlock, Bottleneck, and the CIFAR paper's "option A"
/// zero-padding shortcut.
///
/// Legend: N batch, C in-channels (torchvision's `inplanes`), K out-channels, H x W input,
/// P x Q output, G groups. A block computes y = ReLU(F(x) + shortcut(x)), where F is the
/// residual path and the shortcut is the identity, or a module (`downsample`) when the shape
/// changes.
#include <cstddef>
#include <string>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief torchvision's `conv3x3`: 3x3 convolution, padding = dilation (keeps H x W at
/// stride 1), no bias (a BatchNorm follows).
Conv2dOptions conv3x3(std::size_t in_planes, std::size_t out_planes, std::size_t stride = 1,
                      std::size_t groups = 1, std::size_t dilation = 1);

/// @brief torchvision's `conv1x1`: 1x1 convolution, no padding, no bias.
Conv2dOptions conv1x1(std::size_t in_planes, std::size_t out_planes, std::size_t stride = 1);

/// @brief torchvision's `downsample`: Sequential(conv1x1(C, K, stride), BatchNorm2d(K)), the
/// projection shortcut ("option B") for a block that changes stride or channels.
ModulePtr projection_shortcut(std::size_t in_planes, std::size_t out_planes, std::size_t stride);

/// @brief What every residual block shares: y = ReLU(F(x) + shortcut(x)) and its backward.
///
/// A derived block provides the residual path F (residual_forward / residual_backward); this
/// class adds the shortcut (the identity, or `downsample` when given) and the final ReLU, and
/// routes the gradient: the sum hands dL/d(sum) unchanged to both paths, and x, which fed both,
/// receives the sum of what they send back.
class ResidualBlock : public Module {
 public:
  /// @brief y = ReLU(F(x) + shortcut(x)); caches what backward needs.
  /// @throws Error when F(x) and shortcut(x) have different shapes (a missing downsample).
  Tensor forward(const Tensor& x) override;
  /// @brief dx = dF/dx^T d + dshortcut/dx^T d with d = ReLU'(.) dy; accumulates every
  /// parameter's gradient.
  /// @throws Error when dy does not have the last forward output's shape.
  Tensor backward(const Tensor& dy) override;
  /// @brief The shortcut module, or nullptr for the identity.
  Module* downsample() const { return downsample_.get(); }

 protected:
  /// @brief Keeps `downsample` (may be null: identity shortcut).
  explicit ResidualBlock(ModulePtr downsample) : downsample_(std::move(downsample)) {}
  /// @brief F(x), caching what residual_backward needs.
  virtual Tensor residual_forward(const Tensor& x) = 0;
  /// @brief dL/dx through F alone, from d = dL/dF(x).
  virtual Tensor residual_backward(const Tensor& d) = 0;
  /// @brief Registers `downsample` under that name; derived constructors call it last, so
  /// state_dict keys come in torchvision's order.
  void register_downsample();
  /// @brief ", downsample=..." for repr(), empty without one.
  std::string downsample_repr() const;
  /// @brief Evaluation under NoGradGuard: no backward will come, so BatchNorm folds into the
  /// conv before it and the last ReLU runs in place (the same numbers up to rounding).
  bool inference() const { return !training() && !grad_enabled(); }

 private:
  ModulePtr downsample_;
  ReLU relu_out_;  // after the sum
  Shape out_shape_{};
};

/// @brief torchvision's BasicBlock (expansion 1): conv3x3 (stride) - BN - ReLU - conv3x3 - BN,
/// plus the shortcut, then ReLU. The block of resnet18/34 and of the CIFAR ResNets.
///
/// state_dict: conv1.weight (K, C, 3, 3), bn1.*, conv2.weight (K, K, 3, 3), bn2.*,
/// downsample.0.weight, downsample.1.* (when the downsample is conv1x1 + BN).
class BasicBlock : public ResidualBlock {
 public:
  /// @brief Output channels = planes * expansion.
  static constexpr std::size_t expansion = 1;

  /// @brief The block with torchvision's arguments.
  /// @param inplanes C, the input channels
  /// @param planes K, the output channels
  /// @param stride of conv1 (and of the downsample the caller built)
  /// @param downsample the shortcut module, or nullptr for the identity
  /// @param groups must be 1, as in torchvision
  /// @param base_width must be 64, as in torchvision
  /// @param dilation must be 1, as in torchvision
  /// @throws Error "BasicBlock only supports groups=1 and base_width=64" or "dilation > 1 not
  ///   supported in BasicBlock", torchvision's two messages, with the values found.
  BasicBlock(std::size_t inplanes, std::size_t planes, std::size_t stride = 1,
             ModulePtr downsample = nullptr, std::size_t groups = 1, std::size_t base_width = 64,
             std::size_t dilation = 1);
  /// @brief e.g. "BasicBlock(64, 128, stride=2, downsample=Sequential(2 layers))".
  std::string repr() const override;

  Conv2d conv1;     ///< 3x3, C -> K, stride
  BatchNorm2d bn1;  ///< over K
  ReLU relu;        ///< after bn1
  Conv2d conv2;     ///< 3x3, K -> K
  BatchNorm2d bn2;  ///< over K; zero_init_residual sets its weight to 0

 protected:
  /// @brief bn2(conv2(relu(bn1(conv1(x))))).
  Tensor residual_forward(const Tensor& x) override;
  /// @brief The same steps in reverse.
  Tensor residual_backward(const Tensor& d) override;

 private:
  std::size_t inplanes_, planes_, stride_;
};

/// @brief torchvision's Bottleneck (expansion 4, "ResNet V1.5": the stride on the 3x3):
/// conv1x1 - BN - ReLU - conv3x3 (stride, groups, dilation) - BN - ReLU - conv1x1 - BN, plus
/// the shortcut, then ReLU.
///
/// The inner width is planes * (base_width / 64) * groups, which gives resnet50 (64, 1),
/// resnext50_32x4d (base_width 4, groups 32: width 128 in layer1) and wide_resnet50_2
/// (base_width 128: twice as wide) from the same block.
class Bottleneck : public ResidualBlock {
 public:
  /// @brief Output channels = planes * expansion.
  static constexpr std::size_t expansion = 4;

  /// @brief The block with torchvision's arguments (see BasicBlock for the common ones).
  /// @throws Error when a channel count, stride, groups, base_width or dilation is 0, or when
  ///   the width comes out 0.
  Bottleneck(std::size_t inplanes, std::size_t planes, std::size_t stride = 1,
             ModulePtr downsample = nullptr, std::size_t groups = 1, std::size_t base_width = 64,
             std::size_t dilation = 1);
  /// @brief e.g. "Bottleneck(256, 128, stride=2, width=128, groups=1, dilation=1, ...)".
  std::string repr() const override;
  /// @brief int(planes * (base_width / 64)) * groups, as torchvision computes it.
  static std::size_t width(std::size_t planes, std::size_t base_width, std::size_t groups);

  Conv2d conv1;     ///< 1x1, C -> width
  BatchNorm2d bn1;  ///< over width
  ReLU relu1;       ///< after bn1
  Conv2d conv2;     ///< 3x3, width -> width, stride, groups, dilation
  BatchNorm2d bn2;  ///< over width
  ReLU relu2;       ///< after bn2
  Conv2d conv3;     ///< 1x1, width -> planes * 4
  BatchNorm2d bn3;  ///< over planes * 4; zero_init_residual sets its weight to 0

 protected:
  /// @brief bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))).
  Tensor residual_forward(const Tensor& x) override;
  /// @brief The same steps in reverse.
  Tensor residual_backward(const Tensor& d) override;

 private:
  std::size_t inplanes_, planes_, stride_, groups_, base_width_, dilation_;
};

/// @brief The CIFAR paper's option A shortcut (He et al. 2016, sec. 4.2): "identity mapping
/// with extra zero entries padded for increasing dimensions", no parameters.
///
/// y[n][pad + c][p][q] = x[n][c][p stride][q stride] with pad = (K - C) / 2 zero channels before
/// and K - C - pad after: for K = 2C that is x[:, :, ::2, ::2] padded with K/4 zero channels on
/// each side, as the common PyTorch version (LambdaLayer with F.pad) writes it.
class PadShortcut : public Module {
 public:
  /// @throws Error when out_channels < in_channels or a size is 0.
  PadShortcut(std::size_t in_channels, std::size_t out_channels, std::size_t stride);
  /// @brief (N, C, H, W) -> (N, K, ceil(H / stride), ceil(W / stride)).
  /// @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx[n][c][p s][q s] = dy[n][pad + c][p][q], zero at the skipped positions; the
  /// padded channels' gradients are dropped (they came from constants).
  Tensor backward(const Tensor& dy) override;
  /// @brief "PadShortcut(16, 32, stride=2)".
  std::string repr() const override;

 private:
  std::size_t C_, K_, stride_;
  Shape in_shape_{}, out_shape_{};
};

}  // namespace convbook
