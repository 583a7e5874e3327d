#pragma once
/// @file gemm_benchmark.hpp
/// @brief `convbook bench gemm`: times gemm_naive, gemm_blocked and gemm_packed on the GEMM
/// shapes of chapter 01 (a square 1024^3 product and the im2col GEMMs of CIFAR ResNet-20 at
/// batch 128, forward and backward).
#include <ostream>
#include <string>
#include <vector>

namespace convbook {

/// @brief Runs the SGEMM benchmark and writes its results to `out`.
///
/// Every measurement is the best of several repeats after one warm-up call; GFLOP/s counts
/// 2*M*N*K flops. gemm_naive only runs on shapes of at most 1e8 flops (it is ~100x slower).
/// The first row measures this machine's FP32 peak with a loop of independent xsimd FMAs, so
/// the others can be read as a fraction of it.
///
/// Shape names: `fma_peak`, `square_256`, `square_1024`, and for the three ResNet-20 stages
/// (s1: 16 channels at 32x32, s2: 32 at 16x16, s3: 64 at 8x8) `s1_fwd`, `s1_dW`, `s1_dX`, ...
/// `fwd` is Y = W * col (M = K_out, N = N*P*Q, K = C*R*S); `dW` is dW = dY * col^T
/// (M = K_out, N = C*R*S, K = N*P*Q, B transposed); `dX` is dcol = W^T * dY (M = C*R*S,
/// N = N*P*Q, K = K_out, A transposed).
///
/// @param shapes_filter  run only shapes whose name contains one of these strings (empty: all)
/// @param threads        OpenMP threads for the products (<= 0: OpenMP's default)
/// @param json           write a JSON array, one object per measurement with keys shape, algo,
///                       threads, ms, gflops (plus M, N, K); otherwise a Markdown table
/// @param out            where the results go
/// @return 0 on success
/// @throws Error if a filter matches no shape
int run_gemm_benchmark(const std::vector<std::string>& shapes_filter, int threads, bool json,
                       std::ostream& out);

}  // namespace convbook
