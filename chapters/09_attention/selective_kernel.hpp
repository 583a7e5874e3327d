#pragma once
/// @file selective_kernel.hpp
/// @brief SK convolution (Li, Wang, Hu and Yang, "Selective Kernel Networks", CVPR 2019):
/// split into branches with different receptive fields, fuse them, and let each channel select
/// its branch by a softmax. The backward pass is written by hand and routes the gradient
/// through the branches and through the attention path.
///
/// Legend: N batch, C in-channels, K out-channels, M branches, d width of the fuse FC,
/// H x W input, P x Q output, G groups of the branch convolutions.
///
///     split:   U_m = ReLU(BN_m(conv3x3_m(x)))   conv_m: dilation m + 1, padding m + 1, G groups
///     fuse:    s = GAP(sum_m U_m)  (N, K, 1, 1);   z = ReLU(BN(fc(s)))  (N, d, 1, 1)
///     select:  a = softmax over m of fcs_m(z)  (per channel);  V = sum_m a_m * U_m
///
/// Branch m's dilated 3x3 sees (2m + 3) x (2m + 3) pixels: the paper's 5x5 branch is the
/// dilated 3x3 here, the replacement the paper itself uses for efficiency.
#include <algorithm>
#include <cstddef>
#include <string>

#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief The options of a SelectiveKernel, written like libtorch's:
/// `SelectiveKernelOptions(32, 64).branches(2).groups(8).reduction(16).min_dim(32)`.
/// Defaults are the paper's SKNet-50 choices: M = 2, G = 32, r = 16, L = 32.
class SelectiveKernelOptions {
 public:
  /// @brief An SK convolution from `in_channels` (C) to `out_channels` (K).
  SelectiveKernelOptions(std::size_t in_channels, std::size_t out_channels)
      : in_(in_channels), out_(out_channels) {}

  std::size_t in_channels() const { return in_; }    ///< C
  std::size_t out_channels() const { return out_; }  ///< K

  /// @brief Sets the number of branches M (>= 2); branch m has dilation m + 1.
  SelectiveKernelOptions& branches(std::size_t v) {
    branches_ = v;
    return *this;
  }
  std::size_t branches() const { return branches_; }  ///< M
  /// @brief Sets the groups G of every branch convolution.
  SelectiveKernelOptions& groups(std::size_t v) {
    groups_ = v;
    return *this;
  }
  std::size_t groups() const { return groups_; }  ///< G
  /// @brief Sets the reduction ratio r of the fuse FC: d = max(K / r, L).
  SelectiveKernelOptions& reduction(std::size_t v) {
    reduction_ = v;
    return *this;
  }
  std::size_t reduction() const { return reduction_; }  ///< r
  /// @brief Sets L, the smallest width d of the fuse FC.
  SelectiveKernelOptions& min_dim(std::size_t v) {
    min_dim_ = v;
    return *this;
  }
  std::size_t min_dim() const { return min_dim_; }  ///< L
  /// @brief Sets the stride of every branch (1 or more).
  SelectiveKernelOptions& stride(std::size_t v) {
    stride_ = v;
    return *this;
  }
  std::size_t stride() const { return stride_; }  ///< the branches' stride
  /// @brief d = max(K / r, L), the width of the fused descriptor z.
  std::size_t dim() const { return std::max(reduction_ == 0 ? 0 : out_ / reduction_, min_dim_); }

  /// @brief Checks the options.
  /// @throws Error naming the option, its value and what was expected: zero channels, fewer
  ///   than 2 branches (one branch has nothing to select from), zero groups, reduction, min_dim
  ///   or stride, or groups not dividing in_channels and out_channels.
  void validate() const;

 private:
  std::size_t in_, out_;
  std::size_t branches_ = 2;
  std::size_t groups_ = 32;
  std::size_t reduction_ = 16;
  std::size_t min_dim_ = 32;
  std::size_t stride_ = 1;
};

/// @brief SK convolution: M branches of dilated grouped 3x3 conv-BN-ReLU, fused by a sum,
/// global pooling and a small FC, selected per channel by a softmax across the branches.
///
/// Parameters, named as SKConv in tests/tools/make_ch09_sk_fixtures.py:
/// `convs.m.0.weight` (K, C/G, 3, 3) and `convs.m.1.*` (BN) for each branch m;
/// `fc.0.weight` (d, K, 1, 1) and `fc.1.*` (BN); `fcs.m.weight` (K, d, 1, 1) and
/// `fcs.m.bias` (K) for each branch.
class SelectiveKernel : public Module {
 private:
  SelectiveKernelOptions options_;  // first: validated before the layers below are built

 public:
  /// @throws Error on invalid options (see SelectiveKernelOptions::validate).
  explicit SelectiveKernel(const SelectiveKernelOptions& options);

  /// @brief V (N, K, P, Q) from x (N, C, H, W); caches the branch outputs and the weights.
  /// @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx from dV, routed by hand through the select, the fuse and every branch;
  /// accumulates every parameter's gradient.
  /// @throws Error when dy does not have the last output's shape.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "SelectiveKernel(32, 64, branches=2, groups=8, dim=32, stride=1)".
  std::string repr() const override;
  /// @brief The children's FLOPs plus the fuse sum and the weighted sum (3 N M K P Q).
  double flops() const override;

  /// @brief The options this block was built with.
  const SelectiveKernelOptions& options() const { return options_; }
  /// @brief The attention weights of the last forward, (N, M K, 1, 1): a[n][m K + k] is
  /// branch m's share of channel k; the M shares of a channel sum to 1.
  const Tensor& attention() const { return a_; }

  Sequential convs;       ///< branch m: Sequential(conv3x3 dilation m + 1, BN, ReLU)
  AdaptiveAvgPool2d gap;  ///< global average pool of the fused map
  Sequential fc;          ///< Sequential(conv1x1 K -> d without bias, BN, ReLU)
  Sequential fcs;         ///< branch m's logits: conv1x1 d -> K with bias

 private:
  Tensor u_, a_;  // stacked branch outputs (N, M K, P, Q) and attention (N, M K, 1, 1)
  Shape out_shape_{};
};

}  // namespace convbook
