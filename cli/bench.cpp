/// @file bench.cpp
/// @brief `convbook bench conv|gemm`: command-line options forwarded to the benchmark
/// functions of chapter 01 (conv_benchmark.hpp, gemm_benchmark.hpp).
#include "cli/bench.hpp"

#include <omp.h>

#include "chapters/01_convolution/gemm_benchmark.hpp"
#include "chapters/08_deformable/deform_benchmark.hpp"
#include "chapters/09_attention/attention_benchmark.hpp"
#include "cli/bench_model.hpp"
#include "convbook/error.hpp"

namespace convbook::cli {

BenchCommand::BenchCommand(CLI::App& app) {
  bench_ = app.add_subcommand(
      "bench", "speed of the convolution algorithms, of the GEMM and of whole models");
  bench_->require_subcommand(1);

  conv_ = bench_->add_subcommand(
      "conv",
      "each convolution algorithm on the CIFAR ResNet shapes: ms and GFLOP/s, "
      "forward and forward+backward");
  ConvBenchOptions& o = conv_options_;
  conv_->add_option("--shape", o.shapes, "only these shapes (repeatable), e.g. 3x3_16-16_32x32");
  conv_->add_option("--algo", o.algos,
                    "only these algorithms (repeatable): naive, im2col, winograd2, winograd4, "
                    "direct, depthwise, pointwise, grouped, auto (default: all but naive and "
                    "auto)");
  conv_->add_flag("--include-naive", o.include_naive, "also time naive (slow: seconds a shape)");
  conv_->add_option("--threads", threads_, "OpenMP threads (0: measure both 1 and 2)")
      ->capture_default_str();
  conv_->add_option("--repeats", o.repeats, "timed runs after a warm-up; the best is reported")
      ->capture_default_str();
  conv_->add_option("--batch", o.batch, "batch size N")->capture_default_str();
  conv_->add_flag("--json", o.json,
                  "one JSON object a line: shape, algo, threads, pass, ms, gflops");

  gemm_ = bench_->add_subcommand("gemm", "the GEMM on the im2col shapes of ResNet-20");
  gemm_->add_option("--shape", gemm_shapes_, "only these shapes (repeatable)");
  gemm_->add_option("--threads", threads_, "OpenMP threads (0: OpenMP's default)")
      ->capture_default_str();
  gemm_->add_option("--repeats", gemm_repeats_, "timed runs after a warm-up; the best is reported")
      ->capture_default_str();
  gemm_->add_flag("--json", conv_options_.json, "a JSON array of measurements");

  // chapter 08: the deformable convolution kernels
  deform_ = bench_->add_subcommand(
      "deform", "deformable conv 3x3 64->64 @16x16: naive vs im2col, fwd and fwd+bwd ms");
  deform_->add_option("--batch", deform_options_.batch, "batch size N")->capture_default_str();
  deform_->add_option("--repeats", deform_options_.repeats, "timed runs after a warm-up")
      ->capture_default_str();
  deform_->add_option("--threads", threads_, "OpenMP threads (0: OpenMP's default)")
      ->capture_default_str();
  deform_->add_flag("--json", deform_options_.json, "one JSON object a line");
  attention_ = bench_->add_subcommand(
      "attention", "SE, CBAM, SK and split-attention blocks (chapter 09) beside a conv3x3");
  attention_->add_option("--batch", attention_batch_, "batch size N")->capture_default_str();
  attention_->add_option("--threads", threads_, "OpenMP threads (default 1)");
  attention_->add_option("--repeats", gemm_repeats_, "timed runs after a warm-up; the best")
      ->capture_default_str();
  model_ = add_bench_model_command(*bench_, model_options_);
}

int BenchCommand::run(std::ostream& out) const {
  if (*model_) return run_bench_model(model_options_, out);
  if (threads_ < 0) throw Error("--threads=" + std::to_string(threads_) + ", expected >= 0");
  if (*deform_) {
    if (threads_ > 0) omp_set_num_threads(threads_);
    return run_deform_benchmark(deform_options_, out);
  }
  if (*gemm_) {
    return run_gemm_benchmark(gemm_shapes_, threads_, gemm_repeats_, conv_options_.json, out);
  }
  if (*attention_) {
    return run_attention_benchmark(attention_batch_, gemm_repeats_, threads_ > 0 ? threads_ : 1,
                                   out);
  }
  ConvBenchOptions o = conv_options_;
  if (threads_ > 0) o.threads = {threads_};
  return run_conv_benchmark(o, out);
}

}  // namespace convbook::cli
