#pragma once
/// @file nin.hpp
/// @brief Network in Network (Lin, Chen & Yan, ICLR 2014): the mlpconv block and a small NiN
/// for CIFAR with a global-average-pooling head.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel.
#include <cstddef>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

/// @brief The options of an NiN block, libtorch-style: `NiNBlockOptions(3, 96, 5).padding(2)`.
class NiNBlockOptions {
 public:
  /// @brief A block from `in_channels` (C) to `out_channels` (K) whose first convolution has
  /// an R x S = `kernel_size` kernel; the rest default to stride 1, padding 0, hidden width K,
  /// no BatchNorm, a ReLU after the last 1x1.
  NiNBlockOptions(std::size_t in_channels, std::size_t out_channels, Pair kernel_size)
      : in_(in_channels), out_(out_channels), mid_(out_channels), kernel_(kernel_size) {}

  std::size_t in_channels() const { return in_; }      ///< C
  std::size_t out_channels() const { return out_; }    ///< K, the last 1x1's outputs
  const Pair& kernel_size() const { return kernel_; }  ///< (R, S) of the spatial convolution

  /// @brief Sets the stride of the spatial convolution (default 1).
  NiNBlockOptions& stride(Pair v) {
    stride_ = v;
    return *this;
  }
  const Pair& stride() const { return stride_; }  ///< stride of the spatial convolution
  /// @brief Sets the zero padding of the spatial convolution (default 0).
  NiNBlockOptions& padding(Pair v) {
    padding_ = v;
    return *this;
  }
  const Pair& padding() const { return padding_; }  ///< padding of the spatial convolution
  /// @brief Sets the width of the spatial convolution and of the first 1x1 (default
  /// out_channels, as in the second block of Lin et al.'s CIFAR network, 192-192-192).
  NiNBlockOptions& mid_channels(std::size_t v) {
    mid_ = v;
    return *this;
  }
  std::size_t mid_channels() const { return mid_; }  ///< hidden width of the micro-network
  /// @brief Adds BatchNorm2d after each convolution, before its ReLU (default false: the 2014
  /// block has none; BN came a year later). The convolutions then have no bias, since BN's
  /// beta would cancel it.
  NiNBlockOptions& batch_norm(bool v) {
    batch_norm_ = v;
    return *this;
  }
  bool batch_norm() const { return batch_norm_; }  ///< whether BN follows each convolution
  /// @brief Whether the last 1x1 is followed by (BN and) ReLU (default true, as in the paper).
  /// False leaves the last 1x1 linear, with a bias: what a classifier head wants, since a ReLU
  /// would clip every negative class score to 0.
  NiNBlockOptions& final_activation(bool v) {
    final_activation_ = v;
    return *this;
  }
  bool final_activation() const { return final_activation_; }  ///< ReLU after the last 1x1

  /// @brief Checks the options on their own.
  /// @throws Error naming the option, its value and what was expected when a channel count,
  ///   the kernel size or the stride is zero.
  void validate() const;

 private:
  std::size_t in_, out_, mid_;
  Pair kernel_;
  Pair stride_ = 1;
  Pair padding_ = 0;
  bool batch_norm_ = false;
  bool final_activation_ = true;
};

/// @brief The mlpconv layer of Network in Network: an R x S convolution followed by a
/// two-layer perceptron shared by every pixel, written as two 1x1 convolutions.
///
/// Children, named by position as PyTorch's nn.Sequential would name them:
/// - plain (Lin et al. 2014): `0` Conv RxS (C -> M), `1` ReLU, `2` Conv 1x1 (M -> M), `3` ReLU,
///   `4` Conv 1x1 (M -> K), `5` ReLU;
/// - with batch_norm: each convolution (bias=False) is followed by BatchNorm2d then ReLU:
///   `0` conv, `1` bn, `2` relu, `3` conv, ... `8` relu.
/// With final_activation(false) the last 1x1 has a bias and nothing after it.
/// The block is a Sequential: its backward runs the children's backwards in reverse order,
/// each 1x1 as the two GEMMs of chapter 01 (dx = W^T dy, dW += dy x^T).
class NiNBlock : public Sequential {
 public:
  /// @throws Error on invalid options (see NiNBlockOptions::validate).
  explicit NiNBlock(const NiNBlockOptions& options);
  /// @brief The options the block was built with.
  const NiNBlockOptions& options() const { return options_; }

 private:
  NiNBlockOptions options_;
};

/// @brief A small Network in Network for 32x32 images, sized for two CPU cores.
///
/// Three mlpconv blocks with 3x3 spatial kernels (widths 32, 64, 128 on 32x32, 16x16 and 8x8
/// maps) separated by 2x2 max-pooling; the last block's final 1x1 outputs one map per class
/// and a global average pool turns each map into its class score: no fully connected layer,
/// the head NiN proposed. BatchNorm after each convolution (the modern option) unless
/// `batch_norm` is false.
/// @param num_classes maps of the last 1x1 (10 for CIFAR-10)
/// @param batch_norm  BN after each convolution (true), or Lin et al.'s plain blocks (false)
/// @return a Sequential: `0` NiNBlock, `1` MaxPool2d, `2` NiNBlock, `3` MaxPool2d,
///   `4` NiNBlock, `5` AdaptiveAvgPool2d, `6` Flatten
/// @throws Error when num_classes is 0
ModulePtr nin_cifar(std::size_t num_classes = 10, bool batch_norm = true);

}  // namespace convbook
