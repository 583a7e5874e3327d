#pragma once
/// @file attention_ops.hpp
/// @brief The raw-pointer kernels of SE and CBAM: the sigmoid gate, the broadcast products
/// that apply a gate, the pools that summarize a tensor for it, and their backward passes.
///
/// Legend: N batch, C channels, H x W image, L = H W positions per plane.
/// A *channel* gate s is (N, C): one weight per plane, broadcast over its L positions.
/// A *spatial* gate m is (N, L): one weight per position, broadcast over the C channels.
///
/// Each product y = x * gate has two gradients (d(x g) = g dx + x dg):
///   dx = dy * gate            (the gate broadcast again)
///   dgate = sum of dy * x     over the axis the gate was broadcast along.
/// The naive kernels do each step in its own pass, as a reader would write them from the
/// formulas; the fused ones (suffix _fused) do several steps in one pass over the tensor.
#include <cstddef>

namespace convbook {

/// @brief y = 1 / (1 + exp(-x)) elementwise over n values (computed without overflow).
template <typename T>
void sigmoid_forward(const T* x, T* y, std::size_t n);

/// @brief dx = dy * y (1 - y), the sigmoid's derivative written with its output y.
template <typename T>
void sigmoid_backward(const T* y, const T* dy, T* dx, std::size_t n);

/// @brief y[n][c][l] = x[n][c][l] * s[n][c]. Shapes: x, y (N, C, L); s (N, C).
/// With x = dy it is also the first gradient of the product, dx = dy * s.
template <typename T>
void channel_scale_forward(const T* x, const T* s, T* y, std::size_t N, std::size_t C,
                           std::size_t L);

/// @brief ds[n][c] = sum_l dy[n][c][l] x[n][c][l] (overwritten): the gate's gradient.
template <typename T>
void channel_scale_grad(const T* x, const T* dy, T* ds, std::size_t N, std::size_t C,
                        std::size_t L);

/// @brief y[n][c][l] = x[n][c][l] * m[n][l]. Shapes: x, y (N, C, L); m (N, L).
template <typename T>
void spatial_scale_forward(const T* x, const T* m, T* y, std::size_t N, std::size_t C,
                           std::size_t L);

/// @brief dm[n][l] = sum_c dy[n][c][l] x[n][c][l] (overwritten).
template <typename T>
void spatial_scale_grad(const T* x, const T* dy, T* dm, std::size_t N, std::size_t C,
                        std::size_t L);

/// @brief avg[n][c] = mean over the L positions of plane (n, c) (the SE squeeze).
template <typename T>
void global_avg_pool(const T* x, T* avg, std::size_t N, std::size_t C, std::size_t L);

/// @brief max[n][c] = the largest value of plane (n, c); argmax[n][c] its position l (the
/// first one on ties).
template <typename T>
void global_max_pool(const T* x, T* max, std::size_t* argmax, std::size_t N, std::size_t C,
                     std::size_t L);

/// @brief dx[n][c][l] += davg[n][c] / L: the mean spreads its gradient evenly.
template <typename T>
void global_avg_pool_backward_add(const T* davg, T* dx, std::size_t N, std::size_t C,
                                  std::size_t L);

/// @brief dx[n][c][argmax[n][c]] += dmax[n][c]: the maximum routes its gradient to the winner.
template <typename T>
void global_max_pool_backward_add(const T* dmax, const std::size_t* argmax, T* dx, std::size_t N,
                                  std::size_t C, std::size_t L);

/// @brief CBAM's channel pool, naive: out (N, 2, L) holds the maximum over the C channels at
/// each position in channel 0 and their mean in channel 1 (the order of the official code's
/// ChannelPool); argmax (N, L) the winning channel. Two passes: one per statistic.
template <typename T>
void channel_max_mean_pool(const T* x, T* out, std::size_t* argmax, std::size_t N, std::size_t C,
                           std::size_t L);

/// @brief The backward of channel_max_mean_pool, added: dx[n][c][l] += dout[n][1][l] / C, and
/// dout[n][0][l] to the one channel argmax[n][l]. Shapes: dout (N, 2, L); dx (N, C, L).
template <typename T>
void channel_max_mean_pool_backward_add(const T* dout, const std::size_t* argmax, T* dx,
                                        std::size_t N, std::size_t C, std::size_t L);

/// @brief global_avg_pool and global_max_pool in one pass over each plane.
template <typename T>
void global_avg_max_pool_fused(const T* x, T* avg, T* max, std::size_t* argmax, std::size_t N,
                               std::size_t C, std::size_t L);

/// @brief channel_max_mean_pool in one pass: the channels are walked once, the running maximum
/// and sum of all L positions of an image updated together (a contiguous, vectorizable row).
template <typename T>
void channel_max_mean_pool_fused(const T* x, T* out, std::size_t* argmax, std::size_t N,
                                 std::size_t C, std::size_t L);

/// @brief The whole input gradient of a channel gate fed by global pools, in one pass:
/// dx = dy * s + davg / L (+ dmax at argmax when dmax is not null).
/// Shapes: dy, dx (N, C, L) with dx overwritten; s, davg, dmax, argmax (N, C).
template <typename T>
void channel_gate_backward_fused(const T* dy, const T* s, const T* davg, const T* dmax,
                                 const std::size_t* argmax, T* dx, std::size_t N, std::size_t C,
                                 std::size_t L);

/// @brief The whole input gradient of CBAM's spatial gate, in one pass:
/// dx = dy * m + dpool[n][1][l] / C (+ dpool[n][0][l] at channel argmax[n][l]).
/// Shapes: dy, dx (N, C, L) with dx overwritten; m, argmax (N, L); dpool (N, 2, L).
template <typename T>
void spatial_gate_backward_fused(const T* dy, const T* m, const T* dpool, const std::size_t* argmax,
                                 T* dx, std::size_t N, std::size_t C, std::size_t L);

}  // namespace convbook
