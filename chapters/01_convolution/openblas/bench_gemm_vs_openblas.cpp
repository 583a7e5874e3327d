/// @file bench_gemm_vs_openblas.cpp
/// @brief convbook's SGEMM against OpenBLAS's cblas_sgemm, back to back on the same operands.
///
/// Built only when CMake finds OpenBLAS (scripts/install-deps.sh --bench installs it), and kept
/// out of the `convbook` program on purpose: loading OpenBLAS starts its thread pool, which
/// would then run beside every convbook command. `make bench-blas` installs, builds and runs it.
///
/// Legend: op(A) is M x K, op(B) is K x N, C is M x N (gemm_benchmark.hpp lists the shapes).
/// For every shape and thread count it times gemm (gemm_packed) and cblas_sgemm with the same
/// harness (time_gemm_ms: best of --repeats runs after a warm-up; the two alternate --rounds
/// times and each keeps its best), prints ms, GFLOP/s, the
/// fraction of the FP32 peak measured in the same run, and the ratio OpenBLAS ms / convbook ms
/// (> 1: convbook is faster), and checks that both computed the same C.
///
/// Debian builds OpenBLAS for every x86 core and picks the kernels when the library loads; on
/// CPUs its version does not know (AMD Zen 4 in OpenBLAS 0.3.21) it falls back to a slow one.
/// Set OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels) in the environment before the program
/// starts; the program prints the kernel OpenBLAS chose.
#include <cblas.h>
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "chapters/01_convolution/gemm_benchmark.hpp"
#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"

namespace {

using namespace convbook;

// cblas_sgemm behind convbook's GEMM signature: both are row-major with the same meaning of
// trans, sizes and leading dimensions, so the arguments pass through unchanged.
void openblas_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                    int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void convbook_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
                    int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// max |a - b| / max |a| over the first product's C: float sums of K terms differ by rounding
// (~sqrt(K) * 6e-8 relative), a wrong transpose or edge by O(1).
double relative_difference(const GemmOperands::Floats& a, const GemmOperands::Floats& b,
                           std::size_t n) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    diff = std::max(diff, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(a[i])));
  }
  return diff / std::max(scale, 1e-30);
}

struct Options {
  std::vector<std::string> shapes;
  std::vector<int> threads = {1, 2};
  int repeats = 10;
  int rounds = 3;
};

int run(const Options& o) {
  if (o.repeats < 1) throw Error("--repeats=" + std::to_string(o.repeats) + ", expected >= 1");
  if (o.rounds < 1) throw Error("--rounds=" + std::to_string(o.rounds) + ", expected >= 1");
  for (int t : o.threads) {
    if (t < 1) throw Error("--threads " + std::to_string(t) + ", expected >= 1");
  }
  const std::vector<GemmShape> shapes = select_gemm_shapes(o.shapes);
  if (shapes.empty()) {
    throw Error("--shape: no shape matches the filter; known shapes: " + gemm_shape_names());
  }
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf(
      "%s, kernel %s%s\n\n", openblas_get_config(), openblas_get_corename(),
      coretype ? "" : " (OPENBLAS_CORETYPE not set: Debian's build may pick a slow kernel)");
  std::printf(
      "| shape | M x N x K (x calls) | threads | convbook ms | GFLOP/s | %% peak "
      "| OpenBLAS ms | GFLOP/s | %% peak | ratio |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int threads : o.threads) {
    omp_set_num_threads(threads);
    const double peak = measure_fma_peak_gflops();
    std::printf("| fma_peak | - | %d | | %.1f | 100 | | | | |\n", threads, peak);
    for (const GemmShape& s : shapes) {
      // OpenBLAS gets the threads for a single product; for the per-image products the
      // threads run images, each cblas_sgemm on its caller's thread, as gemm_packed does.
      openblas_set_num_threads(s.calls > 1 ? 1 : threads);
      GemmOperands ours = make_gemm_operands(s, threads), theirs = ours;
      // The two alternate, --rounds times, and each keeps its best: a slow spell of this shared
      // machine then costs both sides a round instead of deciding the ratio.
      double ms_ours = 1e300, ms_theirs = 1e300;
      for (int round = 0; round < o.rounds; ++round) {
        ms_ours = std::min(ms_ours, time_gemm_ms(s, &convbook_sgemm, ours, o.repeats));
        ms_theirs = std::min(ms_theirs, time_gemm_ms(s, &openblas_sgemm, theirs, o.repeats));
        // OpenBLAS's idle workers spin for ~0.1 s after a threaded call; let them fall asleep
        // so they do not take a core from the next measurement.
        if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      const std::size_t c_size = std::size_t(s.M) * s.N;
      const double difference = relative_difference(theirs.C, ours.C, c_size);
      if (difference > 1e-4) {
        throw Error(s.name + ": convbook and OpenBLAS disagree, max |difference| = " +
                    std::to_string(difference) + " of max |C|, expected <= 1e-4");
      }
      const std::string dims = std::to_string(s.M) + " x " + std::to_string(s.N) + " x " +
                               std::to_string(s.K) +
                               (s.calls > 1 ? " x " + std::to_string(s.calls) : "");
      const double gf_ours = s.flops() / ms_ours / 1e6, gf_theirs = s.flops() / ms_theirs / 1e6;
      std::printf("| %s | %s | %d | %.2f | %.1f | %.0f | %.2f | %.1f | %.0f | %.2f |\n",
                  s.name.c_str(), dims.c_str(), threads, ms_ours, gf_ours, 100 * gf_ours / peak,
                  ms_theirs, gf_theirs, 100 * gf_theirs / peak, ms_theirs / ms_ours);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "convbook's SGEMM (gemm_packed) against OpenBLAS's cblas_sgemm on chapter 01's GEMM "
      "shapes; ratio = OpenBLAS ms / convbook ms (> 1: convbook is faster)"};
  Options o;
  app.add_option("--shape", o.shapes, "only shapes whose name contains this (repeatable)");
  app.add_option("--threads", o.threads, "thread counts, each measured")->capture_default_str();
  app.add_option("--rounds", o.rounds, "convbook and OpenBLAS alternate this many times")
      ->capture_default_str();
  app.add_option("--repeats", o.repeats, "timed runs after a warm-up; the best is reported")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gemm_vs_openblas: %s\n", e.what());
    return 1;
  }
}
