/// @file gemm_benchmark.cpp
/// @brief `convbook bench gemm`: naive vs blocked vs packed SGEMM on chapter 01's shapes.
///
/// Legend: op(A) is M x K, op(B) is K x N; in a convolution's im2col GEMM, M = K_out output
/// channels, N = N*P*Q output pixels of the batch, K = C*R*S taps.
#include "chapters/01_convolution/gemm_benchmark.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"

namespace convbook {

namespace {

struct GemmShape {
  std::string name;
  bool trans_a, trans_b;
  int M, N, K;
};

// CIFAR ResNet-20 at batch 128: stage s has C = K_out = 16 * 2^s channels at (32 / 2^s)^2
// pixels, 3x3 kernels. Forward, backward-weight and backward-data GEMMs of one conv layer.
std::vector<GemmShape> all_shapes() {
  std::vector<GemmShape> shapes = {{"square_256", false, false, 256, 256, 256},
                                   {"square_1024", false, false, 1024, 1024, 1024}};
  for (int s = 0; s < 3; ++s) {
    const int channels = 16 << s, side = 32 >> s;
    const int crs = channels * 9, npq = 128 * side * side;
    const std::string stage = "s" + std::to_string(s + 1);
    shapes.push_back({stage + "_fwd", false, false, channels, npq, crs});
    shapes.push_back({stage + "_dW", false, true, channels, crs, npq});
    shapes.push_back({stage + "_dX", true, false, crs, npq, channels});
  }
  return shapes;
}

using Clock = std::chrono::steady_clock;

// Best wall time of `run` in milliseconds: one warm-up call (packing buffers grow, caches and
// threads wake up), then repeats until 10 runs or one second, whichever comes first (at
// least 3). The best, not the mean, because other processes only ever add time.
double best_ms(const std::function<void()>& run) {
  run();
  double best = 1e300, total = 0;
  for (int r = 0; r < 10 && (r < 3 || total < 1000); ++r) {
    const auto t0 = Clock::now();
    run();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    best = std::min(best, ms);
    total += ms;
  }
  return best;
}

//! [fma-peak]
// The FP32 peak as a program sees it: every thread runs 16 independent chains of FMAs on
// registers (16 chains cover the FMA latency x FMA units in flight on any current x86 core), no
// memory traffic at all. Each thread is timed by its own CPU clock, not the wall clock, so the
// result is what the cores can do while they run, even on a machine shared with other jobs.
// Returns GFLOP/s for the whole team: the sum of every thread's rate.
double seconds_on_this_thread() {
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

struct Measurement {
  std::string shape, algo;
  int threads, M, N, K;
  double ms, gflops;
};

bool selected(const std::string& name, const std::vector<std::string>& filter) {
  if (filter.empty()) return true;
  return std::any_of(filter.begin(), filter.end(),
                     [&](const std::string& f) { return name.find(f) != std::string::npos; });
}

}  // namespace

int run_gemm_benchmark(const std::vector<std::string>& shapes_filter, int threads, bool json,
                       std::ostream& out) {
  std::vector<GemmShape> shapes;
  for (const GemmShape& s : all_shapes()) {
    if (selected(s.name, shapes_filter)) shapes.push_back(s);
  }
  const bool peak = selected("fma_peak", shapes_filter);
  if (shapes.empty() && !peak) {
    std::string known = "fma_peak";
    for (const GemmShape& s : all_shapes()) known += ", " + s.name;
    throw Error("bench gemm: no shape matches the filter; known shapes: " + known);
  }

  const int saved_threads = omp_get_max_threads();
  if (threads > 0) omp_set_num_threads(threads);
  const int team = omp_get_max_threads();

  std::vector<Measurement> results;
  if (peak)
    results.push_back({"fma_peak", "xsimd_fma", team, 0, 0, 0, 0, measure_fma_peak_gflops()});

  std::mt19937 rng(2024);
  std::normal_distribution<float> normal;
  using Gemm = void (*)(bool, bool, int, int, int, float, const float*, int, const float*, int,
                        float, float*, int);
  const std::pair<const char*, Gemm> algos[] = {{"naive", &gemm_naive<float>},
                                                {"blocked", &gemm_blocked<float>},
                                                {"packed", &gemm_packed<float>}};
  for (const GemmShape& s : shapes) {
    std::vector<float> A(std::size_t(s.M) * s.K), B(std::size_t(s.K) * s.N),
        C(std::size_t(s.M) * s.N);
    for (float& v : A) v = normal(rng);
    for (float& v : B) v = normal(rng);
    const int lda = s.trans_a ? s.M : s.K, ldb = s.trans_b ? s.K : s.N;
    const double flops = 2.0 * s.M * s.N * s.K;
    for (const auto& [name, gemm] : algos) {
      if (std::string(name) == "naive" && flops > 1e8) continue;  // minutes, and says nothing new
      const double ms = best_ms([&] {
        gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f,
             C.data(), s.N);
      });
      results.push_back({s.name, name, team, s.M, s.N, s.K, ms, flops / ms / 1e6});
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
                    "\"N\": %d, \"K\": %d, \"ms\": %.4f, \"gflops\": %.2f}%s\n",
                    r.shape.c_str(), r.algo.c_str(), r.threads, r.M, r.N, r.K, r.ms, r.gflops,
                    i + 1 < results.size() ? "," : "");
      out << line;
    }
    out << "]\n";
    return 0;
  }
  out << "| shape | M x N x K | algo | threads | ms | GFLOP/s |\n";
  out << "|---|---|---|---:|---:|---:|\n";
  for (const Measurement& r : results) {
    const std::string dims =
        r.shape == "fma_peak"
            ? "-"
            : std::to_string(r.M) + " x " + std::to_string(r.N) + " x " + std::to_string(r.K);
    if (r.shape == "fma_peak") {
      std::snprintf(line, sizeof line, "| %s | %s | %s | %d | - | %.1f |\n", r.shape.c_str(),
                    dims.c_str(), r.algo.c_str(), r.threads, r.gflops);
    } else {
      std::snprintf(line, sizeof line, "| %s | %s | %s | %d | %.2f | %.1f |\n", r.shape.c_str(),
                    dims.c_str(), r.algo.c_str(), r.threads, r.ms, r.gflops);
    }
    out << line;
  }
  return 0;
}

}  // namespace convbook
