#pragma once
/// @file attention_benchmark.hpp
/// @brief `convbook bench attention`: the time of SE and CBAM blocks, naive and fused, forward
/// and forward + backward, beside the 3x3 convolution they follow.
#include <cstddef>
#include <ostream>

namespace convbook {

/// @brief Prints a Markdown table: for each stage shape of attention_cnn (16 x 32 x 32,
/// 32 x 16 x 16, 64 x 8 x 8 with batch `batch`), the best-of-`repeats` CPU milliseconds of
/// SqueezeExcitation(C, 4) and CBAM(C, 4, 7) (and each of CBAM's two gates alone) with naive
/// and with fused kernels, and of one
/// Conv2d 3x3 C -> C (automatic algorithm) for scale; forward, and forward + backward.
/// Runs with `threads` OpenMP threads (the gate kernels themselves are single-threaded). The
/// time is the process's CPU time (std::clock), which on a shared machine, unlike wall time,
/// does not count the periods the process waits or is paused; with more than one thread it
/// sums the threads' times.
/// @return 0
/// @throws Error when batch, repeats or threads is 0.
int run_attention_benchmark(std::size_t batch, int repeats, int threads, std::ostream& out);

}  // namespace convbook
