#pragma once
/// @file bench.hpp
/// @brief `convbook bench conv|gemm|deform|attention|model`: the speed tables of the book.
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "chapters/00_framework/model_benchmark.hpp"
#include "chapters/01_convolution/conv_benchmark.hpp"
#include "chapters/08_deformable/deform_benchmark.hpp"

namespace convbook::cli {

/// @brief The `bench` subcommand: registers itself and its options on the program's App,
/// then runs what the command line selected.
class BenchCommand {
 public:
  /// @brief Adds `bench` and its subcommands, with their options, to `app`.
  explicit BenchCommand(CLI::App& app);

  /// @brief True when the command line chose `bench` (call after app.parse).
  bool selected() const { return bench_->parsed(); }

  /// @brief Runs the chosen benchmark, writing its table or JSON lines to `out`.
  /// @return the exit code (0)
  /// @throws Error on a bad shape, algorithm or count, naming the value and the valid ones.
  int run(std::ostream& out) const;

 private:
  CLI::App* bench_ = nullptr;
  CLI::App* conv_ = nullptr;
  CLI::App* gemm_ = nullptr;
  CLI::App* attention_ = nullptr;  // chapter 09: SE and CBAM blocks
  std::size_t attention_batch_ = 128;
  int threads_ = 0;  // 0: both 1 and 2 threads
  ConvBenchOptions conv_options_;
  std::vector<std::string> gemm_shapes_;
  int gemm_repeats_ = 10;
  CLI::App* deform_ = nullptr;  // chapter 08
  DeformBenchOptions deform_options_;
  // bench model (cli/bench_model.hpp)
  CLI::App* model_ = nullptr;
  ModelBenchOptions model_options_;
};

}  // namespace convbook::cli
