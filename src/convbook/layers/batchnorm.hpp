#pragma once
/// @file batchnorm.hpp
/// @brief BatchNorm2d (Ioffe & Szegedy 2015) exactly as PyTorch: batch statistics in training,
/// running statistics in evaluation, momentum 0.1, eps 1e-5.
///
/// Legend: N batch, C channels, H x W image; M = N H W values per channel.
#include <cstddef>
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief Per-channel mean and biased variance (divided by M = N H W) of x.
///
/// Shapes: x (N, C, H, W); mean (C), var (C) written. Sums are accumulated in double.
template <typename T>
void batchnorm2d_batch_stats(const T* x, T* mean, T* var, std::size_t N, std::size_t C,
                             std::size_t H, std::size_t W);

/// @brief y = gamma * (x - mean) * invstd + beta, per channel, for given statistics.
///
/// Shapes: x, y (N, C, H, W); mean, invstd, gamma, beta (C). invstd = 1 / sqrt(var + eps).
template <typename T>
void batchnorm2d_forward(const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                         T* y, std::size_t N, std::size_t C, std::size_t H, std::size_t W);

/// @brief Gradients of batchnorm2d_forward.
///
/// With `batch_stats` (training mode: mean and invstd were computed from this very x) the
/// compact formula dx = gamma invstd / M (M dy - sum dy - xhat sum(dy xhat)); without (eval
/// mode: fixed running statistics) simply dx = gamma invstd dy.
/// dgamma += sum(dy xhat) and dbeta += sum(dy) in both modes.
/// Shapes: x, dy, dx (N, C, H, W); mean, invstd, gamma, dgamma, dbeta (C).
template <typename T>
void batchnorm2d_backward(const T* x, const T* mean, const T* invstd, const T* gamma, const T* dy,
                          T* dx, T* dgamma, T* dbeta, std::size_t N, std::size_t C, std::size_t H,
                          std::size_t W, bool batch_stats);

/// @brief batchnorm2d_batch_stats, fast: channels spread over OpenMP threads, SIMD sums.
///
/// Same shapes and results (sums in double) as the naive kernel.
template <typename T>
void batchnorm2d_batch_stats_fast(const T* x, T* mean, T* var, std::size_t N, std::size_t C,
                                  std::size_t H, std::size_t W);

/// @brief batchnorm2d_forward, fast: the N C planes spread over OpenMP threads, SIMD inside.
template <typename T>
void batchnorm2d_forward_fast(const T* x, const T* mean, const T* invstd, const T* gamma,
                              const T* beta, T* y, std::size_t N, std::size_t C, std::size_t H,
                              std::size_t W);

/// @brief batchnorm2d_backward, fast: channels over OpenMP threads, SIMD reductions, and dx
/// as one multiply-add per value, dx = k dy + a x + b, with the per-channel a, b, k hoisted
/// out of the loop (the naive kernel recomputes xhat in double for every value).
template <typename T>
void batchnorm2d_backward_fast(const T* x, const T* mean, const T* invstd, const T* gamma,
                               const T* dy, T* dx, T* dgamma, T* dbeta, std::size_t N,
                               std::size_t C, std::size_t H, std::size_t W, bool batch_stats);

/// @brief torch.nn.BatchNorm2d(num_features, eps, momentum) with affine weights and running stats.
///
/// state_dict entries, in PyTorch's order: `weight` (ones), `bias` (zeros), buffers
/// `running_mean` (zeros), `running_var` (ones), `num_batches_tracked` (stored here as a
/// buffer of shape {1}; checkpoints write it as PyTorch's 0-d int64).
///
/// Training forward normalizes with the batch mean and *biased* variance, then updates
/// running_mean = (1 - momentum) running_mean + momentum mean and running_var likewise with the
/// *unbiased* variance M / (M - 1) var. Evaluation normalizes with the running statistics.
/// The layer runs the fast kernels; the naive ones are their reference in the tests.
class BatchNorm2d : public Module {
 public:
  /// @brief A layer over `num_features` channels.
  /// @throws Error when num_features is 0, eps <= 0 or momentum is outside [0, 1].
  explicit BatchNorm2d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1);

  /// @brief Normalizes x (N, C, H, W); in training also updates the running statistics.
  /// @throws Error when x has a channel count other than num_features, or, in training, only
  ///   one value per channel (the variance of one value is undefined, as PyTorch says).
  Tensor forward(const Tensor& x) override;
  /// @brief forward(x) for a temporary x (a conv's output in a block): keeps x itself for
  /// backward instead of a copy of it.
  Tensor forward(Tensor&& x);
  /// @brief dx from dy; accumulates weight.grad and bias.grad.
  Tensor backward(const Tensor& dy) override;
  /// @brief backward(dy) for a temporary dy (a ReLU's gated gradient in a block): dx is
  /// written over dy's memory.
  Tensor backward(Tensor&& dy);
  /// @brief "BatchNorm2d(16, eps=1e-05, momentum=0.1)".
  std::string repr() const override;
  /// @brief 2 N C H W (one multiply and one add per value, once the statistics are folded).
  double flops() const override;

  std::size_t num_features() const { return C_; }  ///< C
  double eps() const { return eps_; }              ///< added to the variance
  double momentum() const { return momentum_; }    ///< running-statistics update rate

  Parameter weight;               ///< gamma, {C}, initialized to 1
  Parameter bias;                 ///< beta, {C}, initialized to 0
  Parameter running_mean;         ///< buffer {C}, initialized to 0
  Parameter running_var;          ///< buffer {C}, initialized to 1
  Parameter num_batches_tracked;  ///< buffer {1}: training forwards seen

 private:
  std::size_t C_;
  double eps_, momentum_;
  // cached by forward for backward
  Tensor run_forward(const Tensor& x);  // y, statistics updated; keeps no copy of x
  Tensor run_backward(const Tensor& dy, Tensor& dx);  // dx may be dy itself (in place)
  Tensor x_, mean_, invstd_;
  std::size_t last_size_ = 0;  // values in the last forward's x
  bool used_batch_stats_ = false;
};

}  // namespace convbook
