#pragma once
/// @file channel_shuffle.hpp
/// @brief Channel shuffle (Zhang et al., ShuffleNet, 2018): the permutation that lets the
/// groups of one grouped convolution talk to every group of the next.
///
/// Legend: N batch, C channels, H x W image, G groups, C/G channels per group.
///
/// With the C channels read as a (G, C/G) matrix (group gi, index k inside the group), the
/// shuffle transposes it to (C/G, G) and reads it back row by row: output channel k G + gi is
/// input channel gi (C/G) + k. In PyTorch it is
/// `x.view(N, G, C/G, H, W).transpose(1, 2).reshape(N, C, H, W)`, or nn.ChannelShuffle(G).
/// Only whole H x W planes move; no value is changed, so the backward pass is the inverse
/// permutation, which is the shuffle with C/G groups.
#include <cstddef>
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief The input channel that output channel `c` of a shuffle with `G` groups reads:
/// (c mod G) (C/G) + floor(c / G). Requires G to divide C.
inline std::size_t channel_shuffle_source(std::size_t c, std::size_t C, std::size_t G) {
  return (c % G) * (C / G) + c / G;
}

/// @brief y = shuffle(x), one value at a time: the reference the fast version is tested against.
///
/// Shapes: x, y (N, C, H, W), distinct buffers; G must divide C (unchecked here).
template <typename T>
void channel_shuffle_forward_naive(const T* x, T* y, std::size_t N, std::size_t C, std::size_t H,
                                   std::size_t W, std::size_t G);

/// @brief dx = shuffle^-1(dy), one value at a time: each gradient goes back to the channel its
/// value came from.
///
/// Shapes: dy, dx (N, C, H, W), distinct buffers; G must divide C (unchecked here).
template <typename T>
void channel_shuffle_backward_naive(const T* dy, T* dx, std::size_t N, std::size_t C, std::size_t H,
                                    std::size_t W, std::size_t G);

/// @brief Same result as channel_shuffle_forward_naive, but each output channel is one copy
/// of a whole contiguous H x W plane.
template <typename T>
void channel_shuffle_forward(const T* x, T* y, std::size_t N, std::size_t C, std::size_t H,
                             std::size_t W, std::size_t G);

/// @brief Same result as channel_shuffle_backward_naive, by whole planes: the shuffle with
/// C/G groups, the inverse permutation.
template <typename T>
void channel_shuffle_backward(const T* dy, T* dx, std::size_t N, std::size_t C, std::size_t H,
                              std::size_t W, std::size_t G);

/// @brief torch.nn.ChannelShuffle(groups) as a Module. No parameters.
class ChannelShuffle : public Module {
 public:
  /// @brief A shuffle of `groups` groups (1 leaves the channels in place).
  /// @throws Error when groups is 0.
  explicit ChannelShuffle(std::size_t groups);

  /// @brief y = shuffle(x) for x (N, C, H, W).
  /// @throws Error when groups does not divide C.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = shuffle^-1(dy).
  /// @throws Error when dy's shape differs from the last forward input's.
  Tensor backward(const Tensor& dy) override;
  /// @brief "ChannelShuffle(groups=3)", as PyTorch prints it.
  std::string repr() const override;

  /// @brief Uses the element-by-element kernels (true) or the plane copies (false, default).
  void set_naive(bool on) { naive_ = on; }
  /// @brief The number of groups G.
  std::size_t groups() const { return G_; }

 private:
  std::size_t G_;
  bool naive_ = false;
  Shape shape_{};
};

}  // namespace convbook
