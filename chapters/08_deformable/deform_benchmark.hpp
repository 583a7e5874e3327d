#pragma once
/// @file deform_benchmark.hpp
/// @brief `convbook bench deform`: the deformable convolution kernels (naive, im2col + GEMM)
/// on one layer shape, forward and forward+backward, beside the regular convolution.
#include <ostream>

namespace convbook {

/// @brief What `convbook bench deform` runs.
struct DeformBenchOptions {
  int batch = 8;              ///< N
  int repeats = 5;            ///< timed runs after one warm-up; the best is reported
  bool include_naive = true;  ///< also time the naive kernels (seconds)
  bool json = false;          ///< one JSON object a line instead of a table
};

/// @brief Times deform_conv2d (v2: offsets and mask, random non-integer offsets) on the shape
/// "deform3x3_64-64_16x16" (3x3, 64 -> 64 channels, 16x16, padding 1, no bias) with the naive
/// and the im2col kernels, and Conv2d (Auto) on the same shape for reference; writes a table
/// or JSON lines (shape, algo, threads, pass, ms) to `out`.
/// @return 0
/// @throws Error when batch or repeats is < 1.
int run_deform_benchmark(const DeformBenchOptions& options, std::ostream& out);

}  // namespace convbook
