#pragma once
/// @file loss.hpp
/// @brief Softmax cross-entropy with optional label smoothing (Szegedy et al. 2016), as
/// torch.nn.CrossEntropyLoss(label_smoothing=eps) with mean reduction.
///
/// Legend: N batch, K classes. The target of sample n is q = (1 - eps) onehot(label) + eps / K,
/// the loss -sum_k q_k log softmax(z)_k averaged over the batch, and its gradient
/// (softmax(z) - q) / N.
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/tensor.hpp"

namespace convbook {

/// @brief Mean over the batch of -sum_k q_k log softmax(z)_k; writes softmax(z) to `probs`.
///
/// Shapes: z, probs (N, K); labels (N), each in [0, K) (unchecked here). Uses the log-sum-exp
/// shift, so large logits do not overflow.
template <typename T>
double softmax_cross_entropy_forward(const T* z, const int* labels, T* probs, std::size_t N,
                                     std::size_t K, double label_smoothing);

/// @brief dz = (softmax(z) - q) / N, the gradient of the mean loss.
///
/// Shapes: probs, dz (N, K); labels (N).
template <typename T>
void softmax_cross_entropy_backward(const T* probs, const int* labels, T* dz, std::size_t N,
                                    std::size_t K, double label_smoothing);

/// @brief The training loss: softmax + cross-entropy fused, with label smoothing.
///
/// Not a Module: it takes labels and returns a number. `backward()` gives d(mean loss)/d logits
/// to feed the network's backward.
class CrossEntropyLoss {
 public:
  /// @throws Error when label_smoothing is outside [0, 1].
  explicit CrossEntropyLoss(double label_smoothing = 0);
  /// @brief The mean loss over the batch, as PyTorch computes it; caches softmax for backward.
  /// @param logits (N, K, 1, 1)
  /// @param labels N class indices in [0, K)
  /// @throws Error when logits are not (N, K, 1, 1), labels.size() != N, or a label is out of
  ///   [0, K).
  double forward(const Tensor& logits, const std::vector<int>& labels);
  /// @brief d mean loss / d logits, (N, K, 1, 1).
  /// @throws Error when forward was not called first.
  Tensor backward() const;
  /// @brief The smoothing eps.
  double label_smoothing() const { return label_smoothing_; }
  /// @brief "CrossEntropyLoss()" or "CrossEntropyLoss(label_smoothing=0.1)".
  std::string repr() const;

 private:
  double label_smoothing_;
  Tensor probs_;
  std::vector<int> labels_;
};

/// @brief How many rows of logits (N, K, 1, 1) have their largest value at the label (top-1 hits).
/// @throws Error when labels.size() differs from N or a label is out of [0, K).
std::size_t count_correct(const Tensor& logits, const std::vector<int>& labels);

}  // namespace convbook
