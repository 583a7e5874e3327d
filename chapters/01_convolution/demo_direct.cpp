// Chapter 01 demo: the layers im2col serves badly, timed with the seven loops, with im2col +
// GEMM and with the kernel written for them (direct SIMD for the stem, depthwise, and 1x1 as
// a plain GEMM).
//
//   ./build/ch01_demo_direct            (OMP_NUM_THREADS=1 for one thread)
//
// Prints a Markdown table: per layer (batch 128) and algorithm, the best time of a few runs of
// the forward and of forward + backward (dx, dw and db), in ms and in GFLOP/s of useful work:
// 2*N*K*P*Q*(C/G)*R*S for the forward, three times that for forward + backward.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "convbook/conv/direct.hpp"
#include "convbook/conv/im2col.hpp"
#include "convbook/conv/pointwise.hpp"
#include "convbook/random.hpp"
#include "chapters/01_convolution/timing.hpp"

using namespace convbook;

namespace {

struct Layer {
  const char* name;  // the names `convbook bench conv` uses
  ConvGeometry g;
};

ConvGeometry layer(int C, int K, int G, int HW, int RS, int pad) {
  ConvGeometry g;
  g.N = 128, g.C = C, g.K = K, g.G = G, g.H = g.W = HW, g.R = g.S = RS;
  g.pad_h = g.pad_w = pad;
  return g;
}

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& e : v) e = float(rng.normal());
  return v;
}

using Forward = std::function<void(const ConvGeometry&, const float*, const float*, const float*,
                                   float*, std::vector<float>&)>;
using Backward = std::function<void(const ConvGeometry&, const float*, const float*, const float*,
                                    float*, float*, float*, std::vector<float>&)>;

void time_layer(const Layer& l, const char* algo, const Forward& forward, const Backward& backward,
                int reps) {
  const ConvGeometry& g = l.g;
  const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W;
  const std::size_t w_size = std::size_t(g.K) * (g.C / g.G) * g.R * g.S;
  const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
  const std::vector<float> x = random_vector(x_size, 1), w = random_vector(w_size, 2),
                           b = random_vector(g.K, 3), dy = random_vector(y_size, 4);
  std::vector<float> y(y_size), dx(x_size), dw(w_size), db(g.K), workspace;
  const double flops = 2.0 * g.N * g.K * g.P() * g.Q() * (g.C / g.G) * g.R * g.S;
  const double fwd =
      best_ms(reps, [&] { forward(g, x.data(), w.data(), b.data(), y.data(), workspace); });
  const double both = best_ms(reps, [&] {
    forward(g, x.data(), w.data(), b.data(), y.data(), workspace);
    backward(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), workspace);
  });
  std::printf("| %-20s | %-9s | %9.2f | %9.1f | %11.2f | %11.1f |\n", l.name, algo, fwd,
              flops / fwd * 1e-6, both, 3 * flops / both * 1e-6);
  std::fflush(stdout);
}

}  // namespace

int main() {
  std::printf("== Layers im2col serves badly, batch 128, %d OpenMP thread(s) ==\n\n",
              omp_get_max_threads());
  const std::vector<Layer> layers = {
      {"3x3_3-16_32x32_stem", layer(3, 16, 1, 32, 3, 1)},
      {"dw3x3_64_16x16", layer(64, 64, 64, 16, 3, 1)},
      {"dw3x3_128_8x8", layer(128, 128, 128, 8, 3, 1)},
      {"1x1_64-256_8x8", layer(64, 256, 1, 8, 1, 0)},
      {"1x1_256-64_8x8", layer(256, 64, 1, 8, 1, 0)},
  };
  std::printf(
      "| layer                | algorithm | fwd ms    | fwd GFLOP/s | fwd+bwd ms | fwd+bwd GFLOP/s "
      "|\n");
  std::printf(
      "|----------------------|-----------|----------:|------------:|-----------:|----------------:"
      "|\n");
  for (const Layer& l : layers) {
    time_layer(
        l, "naive",
        [](const ConvGeometry& g, const float* x, const float* w, const float* b, float* y,
           std::vector<float>&) { conv2d_forward_naive<float>(g, x, w, b, y); },
        [](const ConvGeometry& g, const float* x, const float* w, const float* dy, float* dx,
           float* dw, float* db,
           std::vector<float>&) { conv2d_backward_naive<float>(g, x, w, dy, dx, dw, db); },
        1);
    time_layer(l, "im2col", conv2d_forward_im2col<float>, conv2d_backward_im2col<float>, 10);
    if (pointwise_supports(l.g)) {
      time_layer(l, "pointwise", conv2d_forward_pointwise<float>, conv2d_backward_pointwise<float>,
                 10);
    } else if (depthwise_supports(l.g)) {
      time_layer(l, "depthwise", conv2d_forward_depthwise<float>, conv2d_backward_depthwise<float>,
                 10);
    } else if (direct_supports(l.g)) {
      time_layer(l, "direct", conv2d_forward_direct<float>, conv2d_backward_direct<float>, 10);
    }
  }
  return 0;
}
