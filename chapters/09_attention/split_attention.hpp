#pragma once
/// @file split_attention.hpp
/// @brief ResNeSt's split attention (Zhang et al., "ResNeSt: Split-Attention Networks", 2020),
/// written as the official SplAtConv2d: one grouped convolution makes R splits inside each of
/// G cardinal groups, their sum is pooled and squeezed, an r-softmax across the splits weighs
/// every channel, and the weighted splits are summed. The backward pass is written by hand.
///
/// Legend: N batch, C in-channels, K channels of the output (= of one split), R radix (splits
/// per cardinal group), G cardinality, I width of the attention's hidden layer, H x W input,
/// P x Q output.
///
///     U = ReLU(BN0(conv(x)))     conv: C -> R K, groups G R      stacked splits (N, R K, P, Q)
///     s = GAP(sum_r U_r)         (N, K, 1, 1)
///     z = fc2(ReLU(BN1(fc1(s)))) fc1: K -> I, fc2: I -> R K, both G groups, with bias
///     a = rsoftmax(z)            softmax across the R splits (sigmoid when R = 1)
///     V = sum_r a_r * U_r        (N, K, P, Q)
///
/// Within the stacked U, split r is channels [r K, (r + 1) K) and cardinal group g of split r
/// is the conv group r G + g: the official layout, "radix-major". With R = 1 the block is
/// x -> U -> U * sigmoid(MLP_g(GAP(U))) with one independent bottleneck MLP per cardinal group,
/// a squeeze-and-excitation gate per group.
#include <cstddef>
#include <string>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief The options of a SplitAttention, written like libtorch's:
/// `SplitAttentionOptions(64, 64, 3).padding(1).radix(2).cardinality(1)`.
/// Defaults are the official SplAtConv2d's: radix 2, cardinality 1, reduction_factor 4,
/// hidden width I = max(C R / reduction_factor, 32).
class SplitAttentionOptions {
 public:
  /// @brief A block from `in_channels` (C) to `channels` (K) with a `kernel_size` convolution.
  SplitAttentionOptions(std::size_t in_channels, std::size_t channels, std::size_t kernel_size)
      : in_(in_channels), channels_(channels), kernel_(kernel_size) {}

  std::size_t in_channels() const { return in_; }      ///< C
  std::size_t channels() const { return channels_; }   ///< K
  std::size_t kernel_size() const { return kernel_; }  ///< k: the convolution is k x k

  /// @brief Sets the convolution's stride (default 1).
  SplitAttentionOptions& stride(std::size_t v) {
    stride_ = v;
    return *this;
  }
  std::size_t stride() const { return stride_; }  ///< the stride
  /// @brief Sets the convolution's padding (default 0).
  SplitAttentionOptions& padding(std::size_t v) {
    padding_ = v;
    return *this;
  }
  std::size_t padding() const { return padding_; }  ///< the padding
  /// @brief Sets the number of splits per cardinal group R (1 gives the SE-like gate).
  SplitAttentionOptions& radix(std::size_t v) {
    radix_ = v;
    return *this;
  }
  std::size_t radix() const { return radix_; }  ///< R
  /// @brief Sets the number of cardinal groups G.
  SplitAttentionOptions& cardinality(std::size_t v) {
    cardinality_ = v;
    return *this;
  }
  std::size_t cardinality() const { return cardinality_; }  ///< G
  /// @brief Sets the reduction of the hidden layer: I = max(C R / reduction_factor, min_inter).
  SplitAttentionOptions& reduction_factor(std::size_t v) {
    reduction_ = v;
    return *this;
  }
  std::size_t reduction_factor() const { return reduction_; }  ///< the reduction
  /// @brief Sets the smallest hidden width (the official code's 32).
  SplitAttentionOptions& min_inter_channels(std::size_t v) {
    min_inter_ = v;
    return *this;
  }
  std::size_t min_inter_channels() const { return min_inter_; }  ///< the smallest I
  /// @brief I = max(C R / reduction_factor, min_inter_channels), as the official code.
  std::size_t inter_channels() const {
    const std::size_t reduced = reduction_ == 0 ? 0 : in_ * radix_ / reduction_;
    return reduced > min_inter_ ? reduced : min_inter_;
  }

  /// @brief Checks the options.
  /// @throws Error naming the option, its value and what was expected: zero channels, kernel,
  ///   stride, radix, cardinality or reduction; G R not dividing in_channels (the convolution
  ///   has G R groups); G not dividing channels or the hidden width (fc1 and fc2 have G
  ///   groups).
  void validate() const;

 private:
  std::size_t in_, channels_, kernel_;
  std::size_t stride_ = 1;
  std::size_t padding_ = 0;
  std::size_t radix_ = 2;
  std::size_t cardinality_ = 1;
  std::size_t reduction_ = 4;
  std::size_t min_inter_ = 32;
};

/// @brief ResNeSt's SplAtConv2d with BatchNorm (norm_layer given), no DropBlock, no rectify.
///
/// Parameters, named as the official module's state_dict: `conv.weight` (R K, C/(G R), k, k),
/// `bn0.*` (R K), `fc1.weight` (I, K/G, 1, 1), `fc1.bias` (I), `bn1.*` (I), `fc2.weight`
/// (R K, I/G, 1, 1), `fc2.bias` (R K).
class SplitAttention : public Module {
 private:
  SplitAttentionOptions options_;  // first: validated before the layers below are built

 public:
  /// @throws Error on invalid options (see SplitAttentionOptions::validate).
  explicit SplitAttention(const SplitAttentionOptions& options);

  /// @brief V (N, K, P, Q) from x (N, C, H, W); caches the splits and the attention.
  /// @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx from dV, routed by hand through the weighted sum, the attention path and the
  /// convolution; accumulates every parameter's gradient.
  /// @throws Error when dy does not have the last output's shape.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "SplitAttention(64, 64, kernel_size=3, stride=1, padding=1, radix=2,
  /// cardinality=1, inter_channels=32)".
  std::string repr() const override;
  /// @brief The children's FLOPs plus the split sum and the weighted sum (3 N R K P Q).
  double flops() const override;

  /// @brief The options this block was built with.
  const SplitAttentionOptions& options() const { return options_; }
  /// @brief The attention weights of the last forward, (N, R K, 1, 1) in the stacked layout.
  const Tensor& attention() const { return a_; }

  Conv2d conv;            ///< C -> R K, G R groups, no bias (BN follows)
  BatchNorm2d bn0;        ///< over R K
  ReLU relu;              ///< after bn0
  AdaptiveAvgPool2d gap;  ///< global average pool of the summed splits
  Conv2d fc1;             ///< 1x1 K -> I, G groups, with bias (as the official code)
  BatchNorm2d bn1;        ///< over I
  ReLU relu1;             ///< after bn1 (the official module reuses `relu`)
  Conv2d fc2;             ///< 1x1 I -> R K, G groups, with bias: the logits

 private:
  Tensor u_, a_;  // stacked splits (N, R K, P, Q) and attention (N, R K, 1, 1)
  Shape out_shape_{};
};

}  // namespace convbook
