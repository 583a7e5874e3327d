#pragma once
/// @file init.hpp
/// @brief Weight initialization as PyTorch's torch.nn.init: fans, Kaiming (He et al. 2015),
/// uniform and constant fills, all drawing from a seeded Rng.
#include <cstddef>

#include "convbook/module.hpp"
#include "convbook/random.hpp"

namespace convbook {

/// @brief Which fan Kaiming init keeps the variance of: forward (FanIn) or backward (FanOut).
enum class FanMode { FanIn, FanOut };

/// @brief Fan-in as PyTorch computes it: shape[1] x receptive field (product of shape[2:]).
/// @throws Error for a parameter with fewer than 2 dimensions (a bias has no fan).
std::size_t fan_in(const Parameter& p);
/// @brief Fan-out as PyTorch computes it: shape[0] x receptive field (product of shape[2:]).
/// @throws Error for a parameter with fewer than 2 dimensions.
std::size_t fan_out(const Parameter& p);

/// @brief He et al. 2015 normal init for ReLU networks: N(0, std^2) with std = sqrt(2 / fan).
/// @param p the parameter to fill (at least 2-D)
/// @param mode FanIn keeps the forward variance, FanOut the backward one
/// @param rng where the draws come from
void kaiming_normal_(Parameter& p, FanMode mode, Rng& rng = global_rng());

/// @brief He et al. 2015 uniform init with leaky-ReLU slope `a`: U(-bound, bound),
/// bound = gain * sqrt(3 / fan), gain = sqrt(2 / (1 + a^2)).
///
/// PyTorch's default for Linear and Conv2d weights is `a = sqrt(5)`, FanIn, which gives
/// bound = 1 / sqrt(fan_in).
void kaiming_uniform_(Parameter& p, double a, FanMode mode, Rng& rng = global_rng());

/// @brief Fills `p` with U(lo, hi) draws.
void uniform_(Parameter& p, double lo, double hi, Rng& rng = global_rng());

/// @brief Fills `p` with `v`.
void constant_(Parameter& p, double v);

}  // namespace convbook
