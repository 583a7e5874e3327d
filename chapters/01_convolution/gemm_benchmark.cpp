/// @file gemm_benchmark.cpp
/// @brief `convbook bench gemm`: naive vs blocked vs packed SGEMM on chapter 01's shapes.
///
/// Legend: op(A) is M x K, op(B) is K x N; in a convolution's im2col GEMM, M = K_out output
/// channels, N = N*P*Q output pixels of the batch (P*Q of one image for the `_img` shapes),
/// K = C*R*S taps.
#include "chapters/01_convolution/gemm_benchmark.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "chapters/01_convolution/timing.hpp"
#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"

namespace convbook {

// CIFAR ResNet-20 at batch 128: stage s has C = K_out = 16 * 2^s channels at (32 / 2^s)^2
// pixels, 3x3 kernels. Forward, backward-weight and backward-data GEMMs of one conv layer, for
// the whole batch at once and then image by image as im2col.cpp calls them.
std::vector<GemmShape> gemm_benchmark_shapes() {
  constexpr int batch = 128;
  std::vector<GemmShape> shapes = {{"square_256", false, false, 256, 256, 256, 1},
                                   {"square_1024", false, false, 1024, 1024, 1024, 1}};
  for (int per_image = 0; per_image < 2; ++per_image) {
    for (int s = 0; s < 3; ++s) {
      const int channels = 16 << s, side = 32 >> s, crs = channels * 9;
      const int pixels = per_image ? side * side : batch * side * side;  // N of the product
      const int calls = per_image ? batch : 1;
      const std::string stage = "s" + std::to_string(s + 1), suffix = per_image ? "_img" : "";
      shapes.push_back({stage + "_fwd" + suffix, false, false, channels, pixels, crs, calls});
      shapes.push_back({stage + "_dW" + suffix, false, true, channels, crs, pixels, calls});
      shapes.push_back({stage + "_dX" + suffix, true, false, crs, pixels, channels, calls});
    }
  }
  return shapes;
}

std::vector<GemmShape> select_gemm_shapes(const std::vector<std::string>& filter) {
  std::vector<GemmShape> selected;
  for (const GemmShape& s : gemm_benchmark_shapes()) {
    const bool match = filter.empty() || std::any_of(filter.begin(), filter.end(), [&](auto& f) {
                         return s.name.find(f) != std::string::npos;
                       });
    if (match) selected.push_back(s);
  }
  return selected;
}

std::string gemm_shape_names() {
  std::string names;
  for (const GemmShape& s : gemm_benchmark_shapes()) names += (names.empty() ? "" : ", ") + s.name;
  return names;
}

//! [fma-peak]
// The FP32 peak as a program sees it: every thread runs 16 independent chains of FMAs on
// registers (16 chains cover the FMA latency x FMA units in flight on any current x86 core), no
// memory traffic at all. Each thread is timed by its own CPU clock, not the wall clock, so the
// result is what the cores can do while they run, even on a machine shared with other jobs.
// Returns GFLOP/s for the whole team: the sum of every thread's rate.
static double seconds_on_this_thread() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

double measure_fma_peak_gflops() {
  using V = xsimd::batch<float>;
  constexpr int chains = 16;
  const long iterations = 10'000'000;
  double total_gflops = 0;
  float sink = 0;
#pragma omp parallel reduction(+ : sink, total_gflops)
  {
    V acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = V(1.0f + 1e-3f * c);
    const V a(0.5f), b(0.5f);  // acc -> 0.5 acc + 0.5 stays near 1: no overflow, no denormals
    const double t0 = seconds_on_this_thread();
    for (long i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
      for (int c = 0; c < chains; ++c) acc[c] = xsimd::fma(acc[c], a, b);
    }
    const double seconds = seconds_on_this_thread() - t0;
    for (int c = 0; c < chains; ++c) sink += xsimd::hadd(acc[c]);
    total_gflops += 2.0 * chains * V::size * double(iterations) / seconds / 1e9;
  }
  if (sink == 42.0f) std::printf(" ");  // keeps the loop alive without printing anything
  return total_gflops;
}
//! [fma-peak]

GemmOperands make_gemm_operands(const GemmShape& shape, int threads) {
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal;
  GemmOperands o;
  o.A.resize(std::size_t(shape.M) * shape.K);
  o.B.resize(std::size_t(shape.K) * shape.N);
  o.C.assign(std::size_t(shape.M) * shape.N * (shape.calls > 1 ? threads : 1), 0.0f);
  for (float& v : o.A) v = normal(rng);
  for (float& v : o.B) v = normal(rng);
  o.lda = shape.trans_a ? shape.M : shape.K;
  o.ldb = shape.trans_b ? shape.K : shape.N;
  o.ldc = shape.N;
  return o;
}

double time_gemm_ms(const GemmShape& s, GemmFunction gemm, GemmOperands& o, int repeats) {
  const float *A = o.A.data(), *B = o.B.data();
  float* C = o.C.data();
  if (s.calls == 1) {
    return best_ms(repeats, [&] {
      gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, A, o.lda, B, o.ldb, 0.0f, C, o.ldc);
    });
  }
  // The loop of conv2d_backward_im2col: images shared out statically, one product per image on
  // the thread that owns it (inside a parallel region gemm_packed stays on its thread).
  const std::size_t c_size = std::size_t(s.M) * s.N;
  return best_ms(repeats, [&] {
#pragma omp parallel for schedule(static)
    for (int call = 0; call < s.calls; ++call) {
      gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, A, o.lda, B, o.ldb, 0.0f,
           C + omp_get_thread_num() * c_size, o.ldc);
    }
  });
}

namespace {

struct Measurement {
  std::string shape, algo;
  int threads, M, N, K, calls;
  double ms, gflops;
};

}  // namespace

int run_gemm_benchmark(const std::vector<std::string>& shapes_filter, int threads, int repeats,
                       bool json, std::ostream& out) {
  if (repeats < 1)
    throw Error("bench gemm: --repeats=" + std::to_string(repeats) + ", expected >= 1");
  const std::vector<GemmShape> shapes = select_gemm_shapes(shapes_filter);
  const bool peak =
      shapes_filter.empty() || std::any_of(shapes_filter.begin(), shapes_filter.end(), [](auto& f) {
        return std::string("fma_peak").find(f) != std::string::npos;
      });
  if (shapes.empty() && !peak) {
    throw Error("bench gemm: no shape matches the filter; known shapes: fma_peak, " +
                gemm_shape_names());
  }

  const int saved_threads = omp_get_max_threads();
  if (threads > 0) omp_set_num_threads(threads);
  const int team = omp_get_max_threads();

  std::vector<Measurement> results;
  if (peak)
    results.push_back({"fma_peak", "xsimd_fma", team, 0, 0, 0, 0, 0, measure_fma_peak_gflops()});

  const std::pair<const char*, GemmFunction> algos[] = {{"naive", &gemm_naive<float>},
                                                        {"blocked", &gemm_blocked<float>},
                                                        {"packed", &gemm_packed<float>}};
  for (const GemmShape& s : shapes) {
    GemmOperands operands = make_gemm_operands(s, team);
    for (const auto& [name, gemm] : algos) {
      if (std::string(name) == "naive" && s.flops() > 1e8) continue;  // minutes, says nothing new
      const double ms = time_gemm_ms(s, gemm, operands, repeats);
      results.push_back({s.name, name, team, s.M, s.N, s.K, s.calls, ms, s.flops() / ms / 1e6});
    }
  }
  omp_set_num_threads(saved_threads);

  char line[256];
  if (json) {
    out << "[\n";
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Measurement& r = results[i];
      std::snprintf(line, sizeof line,
                    "  {\"shape\": \"%s\", \"algo\": \"%s\", \"threads\": %d, \"M\": %d, "
                    "\"N\": %d, \"K\": %d, \"calls\": %d, \"ms\": %.4f, \"gflops\": %.2f}%s\n",
                    r.shape.c_str(), r.algo.c_str(), r.threads, r.M, r.N, r.K, r.calls, r.ms,
                    r.gflops, i + 1 < results.size() ? "," : "");
      out << line;
    }
    out << "]\n";
    return 0;
  }
  out << "| shape | M x N x K (x calls) | algo | threads | ms | GFLOP/s |\n";
  out << "|---|---|---|---:|---:|---:|\n";
  for (const Measurement& r : results) {
    if (r.shape == "fma_peak") {
      std::snprintf(line, sizeof line, "| %s | - | %s | %d | - | %.1f |\n", r.shape.c_str(),
                    r.algo.c_str(), r.threads, r.gflops);
    } else {
      const std::string dims = std::to_string(r.M) + " x " + std::to_string(r.N) + " x " +
                               std::to_string(r.K) +
                               (r.calls > 1 ? " x " + std::to_string(r.calls) : "");
      std::snprintf(line, sizeof line, "| %s | %s | %s | %d | %.2f | %.1f |\n", r.shape.c_str(),
                    dims.c_str(), r.algo.c_str(), r.threads, r.ms, r.gflops);
    }
    out << line;
  }
  return 0;
}

}  // namespace convbook
