#pragma once
/// @file rank1.hpp
/// @brief Which learned kernels are separable? The rank-1 energy of every R x S slice
/// w[k, c] of a convolution's weight, and the replacement of each slice by its best rank-1
/// approximation (what a spatially separable R x 1 + 1 x S pair could compute per slice).
///
/// Legend: K out-channels, C in-channels, G groups, R x S kernel.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief sigma_1^2 / sum sigma_i^2 of each slice w[k, c] (an R x S matrix) of the layer's
/// weight, in weight order (k major): K (C/G) values.
std::vector<double> kernel_rank1_energies(const Conv2d& conv);

/// @brief Replaces each slice w[k, c] of the weight by sigma_1 u_1 v_1^T, its best rank-1
/// approximation; the bias is left alone.
/// @return the squared Frobenius norm removed, divided by the weight's: sum over slices of
///   (sigma_2^2 + ...), over sum of all sigma^2.
double replace_kernels_by_rank1(Conv2d& conv);

/// @brief Every Conv2d in `model` (depth first, in registration order) whose kernel is
/// `R` x `S`, with its state_dict prefix, e.g. ("3", conv) for `3.weight`.
std::vector<std::pair<std::string, Conv2d*>> find_convolutions(Module& model, std::size_t R,
                                                               std::size_t S);

/// @brief The q-quantile (0 <= q <= 1) of `values` by linear interpolation between order
/// statistics (numpy's default).
/// @throws Error when values is empty or q is outside [0, 1].
double quantile(std::vector<double> values, double q);

}  // namespace convbook
