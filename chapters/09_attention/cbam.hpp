#pragma once
/// @file cbam.hpp
/// @brief CBAM, the convolutional block attention module (Woo, Park, Lee and Kweon, ECCV
/// 2018): a channel gate then a spatial gate, each with a hand-written backward.
///
/// Legend: N batch, C channels, H x W image, L = H W, Cr = C / r.
///
///     channel gate:  s = sigmoid(mlp(avgpool(x)) + mlp(maxpool(x)))    (N, C, 1, 1)
///                    x1 = x * s                                        s broadcast over H x W
///     spatial gate:  m = sigmoid(bn(conv7x7([max_c x1, mean_c x1])))   (N, 1, H, W)
///                    y = x1 * m                                        m broadcast over C
///
/// Written as the authors' official PyTorch code (github.com/Jongchan/attention-module,
/// MODELS/cbam.py) so its state_dict loads 1:1: the shared MLP is
/// `ChannelGate.mlp` = Sequential(Flatten, Linear(C, Cr), ReLU, Linear(Cr, C)) with biases;
/// the spatial gate is `SpatialGate.spatial` = conv 2 -> 1, 7x7, padding 3, no bias, then
/// BatchNorm2d(1, eps=1e-5, momentum=0.01) and no ReLU. The paper's text does not mention
/// that BatchNorm; the official code has it, so we do too.
#include <cstddef>
#include <string>
#include <vector>

#include "chapters/09_attention/squeeze_excitation.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief CBAM's channel attention: the average- and the max-pooled descriptor through one
/// shared MLP, summed, a sigmoid, and the product with x.
class ChannelGate : public Module {
 public:
  /// @brief A gate over `channels` (C) with reduction ratio `reduction` (r).
  /// @throws Error when channels or reduction is 0 or r > C.
  ChannelGate(std::size_t channels, std::size_t reduction = 16);
  /// @brief y = x * s(x); caches x, s and the winners of the max pool.
  /// @throws Error when x does not have C channels.
  Tensor forward(const Tensor& x) override;
  /// @brief dx through the product and through both pools; accumulates the MLP's gradients.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "ChannelGate(64, reduction=16)".
  std::string repr() const override;
  /// @brief The MLP's FLOPs (both descriptors) plus the pools (2 N C L) and the scale (N C L).
  double flops() const override;
  /// @brief Naive kernels (true) or fused ones (false, the default).
  void set_naive(bool on) { naive_ = on; }
  std::size_t channels() const { return C_; }   ///< C
  std::size_t reduction() const { return r_; }  ///< r
  /// @brief The channel weights s (N, C, 1, 1) of the last forward.
  const Tensor& weights() const { return s_; }

  Sequential mlp;  ///< "0" Flatten, "1" Linear(C, Cr), "2" ReLU, "3" Linear(Cr, C)
  Sigmoid gate;    ///< s = sigmoid(sum of the two MLP outputs)

 private:
  std::size_t C_, r_;
  bool naive_ = false;
  Tensor x_, s_;
  std::vector<std::size_t> argmax_;  // (N, C): the position that won each global max
};

/// @brief CBAM's spatial attention: the channel-wise max and mean maps, a k x k convolution
/// 2 -> 1 with BatchNorm, a sigmoid, and the product with x.
class SpatialGate : public Module {
 public:
  /// @brief A gate with a `kernel_size` x `kernel_size` convolution (7 in the paper, padding
  /// k / 2 keeps H x W).
  /// @throws Error when kernel_size is even or 0.
  explicit SpatialGate(std::size_t kernel_size = 7);
  /// @brief y = x * m(x); caches x, m and the winning channel at each position.
  Tensor forward(const Tensor& x) override;
  /// @brief dx through the product and through both channel pools; accumulates the
  /// convolution's and the BatchNorm's gradients.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "SpatialGate(kernel_size=7)".
  std::string repr() const override;
  /// @brief The convolution's and BatchNorm's FLOPs plus 2 N C L (pools) and N C L (scale).
  double flops() const override;
  /// @brief Naive kernels and the naive convolution (true), or fused kernels and the
  /// convolution's automatic algorithm (false, the default).
  void set_naive(bool on);
  std::size_t kernel_size() const { return k_; }  ///< k
  /// @brief The spatial weights m (N, 1, H, W) of the last forward.
  const Tensor& weights() const { return m_; }

  Sequential spatial;  ///< "conv" Conv2d(2, 1, k, padding k/2, bias=False), "bn" BatchNorm2d(1)
  Sigmoid gate;        ///< m = sigmoid(bn output)

 private:
  std::size_t k_;
  Conv2d* conv_;  // owned by `spatial`
  bool naive_ = false;
  Tensor x_, m_;
  std::vector<std::size_t> argmax_;  // (N, L): the channel that won each position's max
};

/// @brief The CBAM block: ChannelGate then SpatialGate (the paper's sequential, channel-first
/// arrangement). state_dict: `ChannelGate.mlp.1.weight`, ..., `SpatialGate.spatial.conv.weight`,
/// `SpatialGate.spatial.bn.*`.
class CBAM : public Module {
 public:
  /// @brief A block over `channels` with the channel gate's `reduction` and the spatial gate's
  /// `kernel_size`.
  /// @throws Error as ChannelGate and SpatialGate do.
  CBAM(std::size_t channels, std::size_t reduction = 16, std::size_t kernel_size = 7);
  /// @brief y = SpatialGate(ChannelGate(x)).
  Tensor forward(const Tensor& x) override;
  /// @brief The two gates' backward passes in reverse order.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "CBAM(64, reduction=16, kernel_size=7)".
  std::string repr() const override;
  /// @brief Naive or fused kernels in both gates.
  void set_naive(bool on);

  ChannelGate channel_gate;  ///< registered as "ChannelGate", the official name
  SpatialGate spatial_gate;  ///< registered as "SpatialGate"
};

}  // namespace convbook
