#pragma once
/// @file conv_benchmark.hpp
/// @brief `convbook bench conv`: every convolution algorithm on the CIFAR ResNet-style shapes,
/// forward and forward+backward, in ms and GFLOP/s.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, G groups.
/// The shape names are shared with tools/bench_pytorch.py so the tables line up.
#include <ostream>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"

namespace convbook {

/// @brief One benchmarked layer: its name and its geometry at batch 1 (N is set by the run).
struct ConvBenchShape {
  std::string name;  ///< e.g. "3x3_16-16_32x32"
  ConvGeometry g;    ///< sizes and options, N = 1
};

/// @brief The twelve shapes of issue 3, in order: dense 3x3 at three resolutions, the stem,
/// stride 2, 1x1 up and down, grouped, depthwise twice, dilated and 5x5; then chapter 06's
/// rectangular kernels 1x3 and 3x1, dense and depthwise.
const std::vector<ConvBenchShape>& conv_bench_shapes();

/// @brief What `convbook bench conv` runs.
struct ConvBenchOptions {
  std::vector<std::string> shapes;    ///< shape names to run; empty: all
  std::vector<std::string> algos;     ///< algorithm names to run; empty: all but naive and auto
  bool include_naive = false;         ///< also run naive (very slow) when `algos` is empty
  std::vector<int> threads = {1, 2};  ///< OpenMP thread counts, each measured
  int repeats = 5;                    ///< timed runs after one warm-up; the best is reported
  int batch = 128;                    ///< N
  bool json = false;                  ///< one JSON object per line instead of a table
};

/// @brief Runs the benchmark and writes a table (or JSON lines) to `out`.
/// @return 0
/// @throws Error naming a bad shape or algorithm name and listing the valid ones, or a
///   repeats/batch/threads value < 1.
int run_conv_benchmark(const ConvBenchOptions& options, std::ostream& out);

}  // namespace convbook
