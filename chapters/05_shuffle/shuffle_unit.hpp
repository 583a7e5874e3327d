#pragma once
/// @file shuffle_unit.hpp
/// @brief The ShuffleNet v1 unit (Zhang et al. 2018, fig. 2 b and c) with a hand-written
/// backward pass that routes the gradient through its two paths.
///
/// Legend: N batch, C in-channels, K out-channels, M bottleneck (mid) channels, H x W input,
/// P x Q output, G groups.
///
///     main path:  1x1 GConv (C -> M, G groups) -> BN -> ReLU -> ChannelShuffle(G)
///                 -> 3x3 depthwise conv (stride 1 or 2) -> BN        (no ReLU here)
///                 -> 1x1 GConv (M -> K_main, G groups) -> BN
///     stride 1:   y = ReLU(main(x) + x)                     K_main = K = C
///     stride 2:   y = ReLU(cat(AvgPool3x3/2(x), main(x)))   K_main = K - C
#include <cstddef>
#include <string>

#include "chapters/05_shuffle/channel_shuffle.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief The options of a ShuffleUnit, written like libtorch's options:
/// `ShuffleUnitOptions(24, 120).stride(2).groups(3).group_first_conv(false)`.
class ShuffleUnitOptions {
 public:
  /// @brief A unit from `in_channels` (C) to `out_channels` (K); stride 1, 3 groups, the
  /// paper's bottleneck M = K / 4, the first 1x1 grouped, the shuffle on.
  ShuffleUnitOptions(std::size_t in_channels, std::size_t out_channels)
      : in_(in_channels), out_(out_channels) {}

  std::size_t in_channels() const { return in_; }    ///< C
  std::size_t out_channels() const { return out_; }  ///< K

  /// @brief Sets the stride: 1 (residual sum, fig. 2b) or 2 (pool + concat, fig. 2c).
  ShuffleUnitOptions& stride(std::size_t v) {
    stride_ = v;
    return *this;
  }
  std::size_t stride() const { return stride_; }  ///< the stride
  /// @brief Sets the groups G of both 1x1 convolutions and of the shuffle.
  ShuffleUnitOptions& groups(std::size_t v) {
    groups_ = v;
    return *this;
  }
  std::size_t groups() const { return groups_; }  ///< G
  /// @brief Sets the bottleneck width M (0, the default, means the paper's K / 4).
  ShuffleUnitOptions& mid_channels(std::size_t v) {
    mid_ = v;
    return *this;
  }
  /// @brief The bottleneck width M actually used.
  std::size_t mid_channels() const { return mid_ != 0 ? mid_ : out_ / 4; }
  /// @brief Whether the first 1x1 is grouped (true). The paper makes it dense in the first
  /// unit of stage 2, whose input has too few channels (24) to split.
  ShuffleUnitOptions& group_first_conv(bool v) {
    group_first_ = v;
    return *this;
  }
  bool group_first_conv() const { return group_first_; }  ///< whether conv1 has G groups
  /// @brief Whether the channel shuffle is applied (true); false gives the paper's
  /// "no shuffle" ablation (Table 3).
  ShuffleUnitOptions& shuffle(bool v) {
    shuffle_ = v;
    return *this;
  }
  bool shuffle() const { return shuffle_; }  ///< whether the channels are shuffled

  /// @brief Channels the main path produces: K (stride 1) or K - C (stride 2).
  std::size_t main_channels() const { return stride_ == 2 && out_ > in_ ? out_ - in_ : out_; }

  /// @brief Checks the options.
  /// @throws Error naming the option, its value and what was expected: a zero size; a stride
  ///   other than 1 or 2; stride 1 with in_channels != out_channels (the sum needs equal
  ///   shapes); stride 2 with out_channels <= in_channels (the concat needs room for the main
  ///   path); groups not dividing in_channels (when conv1 is grouped), the bottleneck or the
  ///   main path's channels.
  void validate() const;

 private:
  std::size_t in_, out_;
  std::size_t stride_ = 1;
  std::size_t groups_ = 3;
  std::size_t mid_ = 0;
  bool group_first_ = true;
  bool shuffle_ = true;
};

/// @brief The ShuffleNet v1 unit: fig. 2b (stride 1) and fig. 2c (stride 2) of the paper.
///
/// Parameters, named as the PyTorch module in tests/tools/make_ch05_fixtures.py:
/// `conv1.weight` (M, C/G1, 1, 1), `bn1.*`, `conv2.weight` (M, 1, 3, 3) depthwise, `bn2.*`,
/// `conv3.weight` (K_main, M/G, 1, 1), `bn3.*`. No biases: each convolution is followed by BN.
class ShuffleUnit : public Module {
 private:
  ShuffleUnitOptions options_;  // first: validated before the layers below are built from it

 public:
  /// @throws Error on invalid options (see ShuffleUnitOptions::validate).
  explicit ShuffleUnit(const ShuffleUnitOptions& options);

  /// @brief y (N, K, P, Q) from x (N, C, H, W); caches what backward needs.
  /// @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx from dy, routed by hand through the main path and the shortcut; accumulates
  /// every parameter's gradient.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "ShuffleUnit(24, 120, stride=2, groups=3, mid_channels=30,
  /// group_first_conv=False)".
  std::string repr() const override;

  /// @brief The options this unit was built with.
  const ShuffleUnitOptions& options() const { return options_; }

  Conv2d conv1;             ///< 1x1 group conv C -> M (G groups, or 1 when !group_first_conv)
  BatchNorm2d bn1;          ///< over M
  ReLU relu1;               ///< after bn1
  ChannelShuffle shuffle;   ///< G groups (1, a no-op, when options.shuffle() is false)
  Conv2d conv2;             ///< 3x3 depthwise M -> M, stride 1 or 2, padding 1
  BatchNorm2d bn2;          ///< over M; no ReLU after it (the paper's choice)
  Conv2d conv3;             ///< 1x1 group conv M -> K_main
  BatchNorm2d bn3;          ///< over K_main
  AvgPool2d shortcut_pool;  ///< 3x3, stride 2, padding 1: the stride-2 shortcut
  ReLU relu_out;            ///< after the sum or the concat

 private:
  Shape in_shape_{}, out_shape_{};  // of the last forward: backward checks dy against them
};

}  // namespace convbook
