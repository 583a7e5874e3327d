#pragma once
/// @file exercise.hpp
/// @brief Chapter 00's exercises: write four backward passes and updates by hand.
///
/// Each function works on plain row-major std::vector<float> so nothing but the math is in the
/// way. `make exercise CH=00` checks your exercise.cpp against the framework's own layers
/// (check.cpp); the book's answers are in solution.cpp. Legend: N batch, C channels, H x W
/// image, K classes.
#include <cstddef>
#include <vector>

namespace convbook::ex00 {

/// @brief Exercise 00.1: BatchNorm2d's backward in training mode.
///
/// The forward was y = gamma * (x - mean) / sqrt(var + eps) + beta with the *batch* mean and
/// biased variance of each channel (over N, H, W). Compute the batch statistics yourself.
/// @param x (N, C, H, W) the forward's input
/// @param gamma (C) the scale
/// @param dy (N, C, H, W) upstream gradient
/// @param eps the constant added to the variance
/// @param dx (N, C, H, W) output: dL/dx
/// @param dgamma (C) output: dL/dgamma
/// @param dbeta (C) output: dL/dbeta
void batchnorm2d_backward_train(const std::vector<float>& x, const std::vector<float>& gamma,
                                const std::vector<float>& dy, std::size_t N, std::size_t C,
                                std::size_t H, std::size_t W, double eps, std::vector<float>& dx,
                                std::vector<float>& dgamma, std::vector<float>& dbeta);

/// @brief Exercise 00.2: the gradient of the mean softmax cross-entropy with label smoothing.
/// @param logits (N, K)
/// @param labels (N), each in [0, K)
/// @param label_smoothing eps: the target is (1 - eps) onehot + eps / K
/// @return dL/dlogits, (N, K)
std::vector<float> cross_entropy_backward(const std::vector<float>& logits,
                                          const std::vector<int>& labels, std::size_t N,
                                          std::size_t K, double label_smoothing);

/// @brief Exercise 00.3: max-pool backward, routing each dy to the maximum of its window.
///
/// Square windows of side `kernel`, `stride`, implicit `padding` that never wins; ties go to
/// the first element in row-major order; output size P = (H + 2 padding - kernel) / stride + 1.
/// @param x (N, C, H, W) the forward's input
/// @param dy (N, C, P, Q) upstream gradient
/// @return dx, (N, C, H, W)
std::vector<float> maxpool2d_backward(const std::vector<float>& x, const std::vector<float>& dy,
                                      std::size_t N, std::size_t C, std::size_t H, std::size_t W,
                                      std::size_t kernel, std::size_t stride, std::size_t padding);

/// @brief Exercise 00.4: one step of torch.optim.SGD with momentum, Nesterov and weight decay
/// (dampening 0).
/// @param w the parameter, updated in place
/// @param grad its gradient
/// @param momentum_buffer the velocity, updated in place (its content is ignored on the first step)
/// @param first_step true on the first step, when PyTorch sets the buffer to the gradient itself
void sgd_step(std::vector<float>& w, const std::vector<float>& grad,
              std::vector<float>& momentum_buffer, bool first_step, double lr, double momentum,
              double weight_decay, bool nesterov);

}  // namespace convbook::ex00
