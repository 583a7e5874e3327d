#pragma once
/// @file gemm_benchmark.hpp
/// @brief `convbook bench gemm`: times gemm_naive, gemm_blocked and gemm_packed on the GEMM
/// shapes of chapter 01 (a square 1024^3 product and the im2col GEMMs of CIFAR ResNet-20 at
/// batch 128, forward and backward). The shapes, the peak measurement and the timing of one
/// shape are shared with the OpenBLAS comparison (openblas/bench_gemm_vs_openblas.cpp).
#include <ostream>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>

namespace convbook {

/// @brief A GEMM with convbook's signature (gemm.hpp), float.
using GemmFunction = void (*)(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                              const float* A, int lda, const float* B, int ldb, float beta,
                              float* C, int ldc);

/// @brief One benchmarked product: `calls` independent products of op(A) (M x K) by op(B)
/// (K x N), alpha = 1, beta = 0.
///
/// Shape names: `square_256`, `square_1024`, and for the three ResNet-20 stages (s1: 16
/// channels at 32x32, s2: 32 at 16x16, s3: 64 at 8x8) `s1_fwd`, `s1_dW`, `s1_dX`, ...
/// `fwd` is Y = W * col (M = K_out, N = N*P*Q, K = C*R*S); `dW` is dW = dY * col^T
/// (M = K_out, N = C*R*S, K = N*P*Q, B transposed); `dX` is dcol = W^T * dY (M = C*R*S,
/// N = N*P*Q, K = K_out, A transposed). These batched shapes (one product for the whole batch
/// of 128) are the targets of issue 3. The `_img` shapes (`s1_fwd_img`, ...) are the products
/// conv2d_forward_im2col and conv2d_backward_im2col really call: one per image (P*Q instead of
/// N*P*Q), 128 of them, the images shared out over the threads and each product on one thread.
struct GemmShape {
  std::string name;
  bool trans_a, trans_b;
  int M, N, K;
  int calls;  ///< products per run: 1, or 128 per-image products run as im2col runs them
  /// @brief Flops of one run: 2*M*N*K per product.
  double flops() const { return 2.0 * M * N * K * calls; }
};

/// @brief Every shape of the benchmark, in the order of the tables.
std::vector<GemmShape> gemm_benchmark_shapes();

/// @brief The shapes whose name contains one of `filter`'s strings (all of them if `filter` is
/// empty); possibly none.
std::vector<GemmShape> select_gemm_shapes(const std::vector<std::string>& filter);

/// @brief The names of every shape, comma-separated, for error messages.
std::string gemm_shape_names();

/// @brief This machine's FP32 peak in GFLOP/s with OpenMP's current number of threads: a loop of
/// independent xsimd FMAs on registers, each thread timed by its own CPU clock, rates summed.
double measure_fma_peak_gflops();

/// @brief Random operands of one shape: A and B, and a C per thread (the `_img` shapes give
/// each thread its own output, as the convolution does).
struct GemmOperands {
  /// 64-byte aligned, as a BLAS user allocates (MKL's advice): a row of C then starts on a cache
  /// line, where gemm_packed can write a large C with streaming stores.
  using Floats = std::vector<float, xsimd::aligned_allocator<float, 64>>;
  Floats A, B, C;
  int lda, ldb, ldc;
};

/// @brief Fills A and B with N(0, 1) values from a fixed seed, C with zeros.
/// @param shape    the product's sizes and transposes
/// @param threads  how many threads may run the products at once (one C each)
GemmOperands make_gemm_operands(const GemmShape& shape, int threads);

/// @brief Best time in ms (timing.hpp's best_ms) of one run of `shape` with `gemm`: a single
/// product, or `calls` products in an OpenMP loop over OpenMP's current number of threads,
/// each thread writing its own C, as im2col.cpp runs its images.
/// @param shape     the product's sizes and transposes
/// @param gemm      the GEMM to time (convbook's or a reference with the same signature)
/// @param operands  A, B and the C of each thread, from make_gemm_operands
/// @param repeats   timed runs after one warm-up run
double time_gemm_ms(const GemmShape& shape, GemmFunction gemm, GemmOperands& operands, int repeats);

/// @brief Runs the SGEMM benchmark and writes its results to `out`.
///
/// Every measurement is the best of `repeats` runs after one warm-up run; GFLOP/s counts
/// 2*M*N*K flops per product. gemm_naive only runs on shapes of at most 1e8 flops (it is ~100x
/// slower). The first row measures this machine's FP32 peak (`fma_peak`), so the others can be
/// read as a fraction of it.
///
/// @param shapes_filter  run only shapes whose name contains one of these strings (empty: all)
/// @param threads        OpenMP threads for the products (<= 0: OpenMP's default)
/// @param repeats        timed runs per measurement
/// @param json           write a JSON array, one object per measurement with keys shape, algo,
///                       threads, ms, gflops (plus M, N, K, calls); otherwise a Markdown table
/// @param out            where the results go
/// @return 0 on success
/// @throws Error if a filter matches no shape or repeats < 1
int run_gemm_benchmark(const std::vector<std::string>& shapes_filter, int threads, int repeats,
                       bool json, std::ostream& out);

}  // namespace convbook
