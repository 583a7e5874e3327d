/// @file conv_benchmark.cpp
/// @brief `convbook bench conv`: times conv2d_forward / conv2d_backward of every algorithm that
/// supports each shape, best of a few runs after a warm-up, at 1 and 2 threads.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups. The kernels are called directly on raw float buffers (not through Conv2d), so the
/// times hold the convolution only: no output allocation, no copy of the input for backward.
#include "conv_benchmark.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <random>

#include "convbook/error.hpp"
#include "chapters/01_convolution/timing.hpp"

namespace convbook {

namespace {

ConvGeometry make_geometry(int C, int K, int HW, int RS, int stride, int pad, int dil, int G) {
  ConvGeometry g;
  g.C = C;
  g.K = K;
  g.H = g.W = HW;
  g.R = g.S = RS;
  g.stride_h = g.stride_w = stride;
  g.pad_h = g.pad_w = pad;
  g.dil_h = g.dil_w = dil;
  g.G = G;
  return g;
}

// A rectangular R x S kernel (chapter 06's spatially separable layers, 1x3 and 3x1), stride
// 1, padded by (R/2, S/2) to keep the size.
ConvGeometry rect_geometry(int C, int K, int HW, int R, int S, int G) {
  ConvGeometry g = make_geometry(C, K, HW, 1, 1, 0, 1, G);
  g.R = R;
  g.S = S;
  g.pad_h = R / 2;
  g.pad_w = S / 2;
  return g;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// The forward FLOPs, 2*N*K*P*Q*(C/G)*R*S; forward+backward counts 3x (dx and dw each cost
// one forward).
double forward_flops(const ConvGeometry& g) {
  return 2.0 * g.N * g.K * g.P() * g.Q() * (g.C / g.G) * g.R * g.S;
}

std::vector<float> random_buffer(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& e : v) e = u(rng);
  return v;
}

}  // namespace

const std::vector<ConvBenchShape>& conv_bench_shapes() {
  // Padding keeps the size: 1 for 3x3, 2 for 5x5 and for dilation 2; stride 2 pads 1.
  static const std::vector<ConvBenchShape> shapes = {
      {"3x3_16-16_32x32", make_geometry(16, 16, 32, 3, 1, 1, 1, 1)},
      {"3x3_32-32_16x16", make_geometry(32, 32, 16, 3, 1, 1, 1, 1)},
      {"3x3_64-64_8x8", make_geometry(64, 64, 8, 3, 1, 1, 1, 1)},
      {"3x3_3-16_32x32_stem", make_geometry(3, 16, 32, 3, 1, 1, 1, 1)},
      {"3x3s2_16-32_32x32", make_geometry(16, 32, 32, 3, 2, 1, 1, 1)},
      {"1x1_64-256_8x8", make_geometry(64, 256, 8, 1, 1, 0, 1, 1)},
      {"1x1_256-64_8x8", make_geometry(256, 64, 8, 1, 1, 0, 1, 1)},
      {"3x3g32_128-128_16x16", make_geometry(128, 128, 16, 3, 1, 1, 1, 32)},
      {"dw3x3_64_16x16", make_geometry(64, 64, 16, 3, 1, 1, 1, 64)},
      {"dw3x3_128_8x8", make_geometry(128, 128, 8, 3, 1, 1, 1, 128)},
      {"3x3d2_32-32_16x16", make_geometry(32, 32, 16, 3, 1, 2, 2, 1)},
      {"5x5_32-32_16x16", make_geometry(32, 32, 16, 5, 1, 2, 1, 1)},
      // chapter 03: googlenet_cifar's inception3b (1x1 of branch 1, the 3x3 and the 5x5)
      {"1x1_64-32_16x16", make_geometry(64, 32, 16, 1, 1, 0, 1, 1)},
      {"3x3_32-48_16x16", make_geometry(32, 48, 16, 3, 1, 1, 1, 1)},
      {"5x5_8-24_16x16", make_geometry(8, 24, 16, 5, 1, 2, 1, 1)},
      // chapter 06: rectangular kernels (1x3, 3x1), dense and depthwise
      {"1x3_64-64_16x16", rect_geometry(64, 64, 16, 1, 3, 1)},
      {"3x1_64-64_16x16", rect_geometry(64, 64, 16, 3, 1, 1)},
      {"dw1x3_64_16x16", rect_geometry(64, 64, 16, 1, 3, 64)},
      {"dw3x1_64_16x16", rect_geometry(64, 64, 16, 3, 1, 64)},
  };
  return shapes;
}

int run_conv_benchmark(const ConvBenchOptions& options, std::ostream& out) {
  if (options.repeats < 1) {
    throw Error("--repeats=" + std::to_string(options.repeats) + ", expected >= 1");
  }
  if (options.batch < 1)
    throw Error("--batch=" + std::to_string(options.batch) + ", expected >= 1");
  for (int t : options.threads) {
    if (t < 1) throw Error("--threads=" + std::to_string(t) + ", expected >= 1");
  }

  // Resolve the filters first, so a typo fails before minutes of measuring.
  std::vector<std::string> shape_names;
  for (const ConvBenchShape& s : conv_bench_shapes()) shape_names.push_back(s.name);
  for (const std::string& name : options.shapes) {
    if (std::find(shape_names.begin(), shape_names.end(), name) == shape_names.end()) {
      throw Error("--shape '" + name + "' is unknown, expected one of: " + join_names(shape_names));
    }
  }
  std::vector<ConvAlgo> algos;
  if (options.algos.empty()) {
    for (ConvAlgo a : all_conv_algos()) {
      if (a == ConvAlgo::Auto || (a == ConvAlgo::Naive && !options.include_naive)) continue;
      algos.push_back(a);
    }
  } else {
    for (const std::string& name : options.algos) algos.push_back(parse_conv_algo(name));
  }

  char line[256];
  if (!options.json) {
    std::snprintf(line, sizeof line, "%-22s %-10s %7s %10s %9s %12s %9s\n", "shape", "algo",
                  "threads", "fwd ms", "GFLOP/s", "fwd+bwd ms", "GFLOP/s");
    out << line;
  }
  std::vector<float> workspace;
  for (const ConvBenchShape& shape : conv_bench_shapes()) {
    if (!options.shapes.empty() && std::find(options.shapes.begin(), options.shapes.end(),
                                             shape.name) == options.shapes.end()) {
      continue;
    }
    ConvGeometry g = shape.g;
    g.N = options.batch;
    const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W,
                      w_size = std::size_t(g.K) * (g.C / g.G) * g.R * g.S,
                      y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
    const std::vector<float> x = random_buffer(x_size, 1), w = random_buffer(w_size, 2),
                             dy = random_buffer(y_size, 3);
    std::vector<float> y(y_size), dx(x_size), dw(w_size), db(std::size_t(g.K));
    const double flops = forward_flops(g);

    for (ConvAlgo algo : algos) {
      if (!conv_algo_supports(algo, g)) continue;
      const std::string name =
          algo == ConvAlgo::Auto ? "auto(" + to_string(pick_conv_algo(g)) + ")" : to_string(algo);
      for (int threads : options.threads) {
        omp_set_num_threads(threads);
        // No bias, as in ResNet's convolutions (and tools/bench_pytorch.py).
        auto forward = [&] {
          conv2d_forward<float>(algo, g, x.data(), w.data(), nullptr, y.data(), workspace);
        };
        const double fwd = best_ms(options.repeats, forward);
        const double fwd_bwd = best_ms(options.repeats, [&] {
          forward();
          conv2d_backward<float>(algo, g, x.data(), w.data(), dy.data(), dx.data(), dw.data(),
                                 db.data(), workspace);
        });
        const double gf_fwd = flops / fwd * 1e-6, gf_fwd_bwd = 3 * flops / fwd_bwd * 1e-6;
        if (options.json) {
          for (int pass = 0; pass < 2; ++pass) {
            std::snprintf(line, sizeof line,
                          "{\"shape\": \"%s\", \"algo\": \"%s\", \"threads\": %d, "
                          "\"pass\": \"%s\", \"ms\": %.4f, \"gflops\": %.2f}\n",
                          shape.name.c_str(), name.c_str(), threads, pass == 0 ? "fwd" : "fwd+bwd",
                          pass == 0 ? fwd : fwd_bwd, pass == 0 ? gf_fwd : gf_fwd_bwd);
            out << line;
          }
        } else {
          std::snprintf(line, sizeof line, "%-22s %-10s %7d %10.3f %9.1f %12.3f %9.1f\n",
                        shape.name.c_str(), name.c_str(), threads, fwd, gf_fwd, fwd_bwd,
                        gf_fwd_bwd);
          out << line;
        }
        out.flush();
      }
    }
  }
  return 0;
}

}  // namespace convbook
