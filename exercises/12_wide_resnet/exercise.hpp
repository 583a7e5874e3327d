#pragma once
/// @file exercise.hpp
/// @brief Chapter 12's exercises: WRN-n-k's parameters and convolution FLOPs in closed form, and
/// the variance shift of dropout in front of a BatchNorm, predicted from the data.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output. Arrays are plain
/// row-major std::vector<float> in NCHW order. `make exercise CH=12` checks your exercise.cpp
/// against the framework (check.cpp); the book's answers are in solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex12 {

/// @brief Exercise 12.1: the trainable parameters of WRN-depth-width (wide_resnet(depth, width,
/// p, num_classes)), in closed form.
///
/// Count conv weights (no biases), every BatchNorm's gamma and beta (bn0 and bn1 of each block,
/// the final bn), and fc's weight and bias; the 1x1 convdim exists where a block changes its
/// channels or its stride; dropout has no parameters.
/// @return what Module::num_parameters() returns (WRN-16-4, 10 classes: 2,748,890)
std::size_t wrn_parameters(std::size_t depth, std::size_t width, std::size_t num_classes);

/// @brief Exercise 12.2: the FLOPs (2 x multiply-adds) of all the convolutions of WRN-depth-width
/// for one side x side RGB image: conv0, conv0 and conv1 of every block and the convdims.
///
/// A 3x3 with padding 1 and stride s maps a side of h to (h - 1) / s + 1; a 1x1 with stride s
/// the same. A convolution C -> K producing P x Q outputs costs 2 C K R S P Q.
/// @return the sum of Conv2d::flops() over the model's convolutions after a forward of one image
double wrn_conv_flops(std::size_t depth, std::size_t width, std::size_t side);

/// @brief Exercise 12.3: the variance shift of dropout(p) right in front of a BatchNorm.
///
/// In training the BN sees z = x m / (1 - p), m ~ Bernoulli(1 - p) per value; in evaluation it
/// sees z = x. Predict, per channel c, Var_train(z) / Var_eval(z), where both variances are
/// taken over (N, H, W) as BatchNorm takes them and the expectation over the masks: from the
/// channel's mean and second moment of x alone.
/// @param x (N, C, H, W)
/// @param p the drop probability, in [0, 1)
/// @return C ratios (each >= 1 / (1 - p))
std::vector<double> dropout_variance_ratio(const std::vector<float>& x, std::size_t N,
                                           std::size_t C, std::size_t H, std::size_t W, double p);

}  // namespace convbook::ex12
