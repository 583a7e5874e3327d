// Chapter 01 demo: convolution by hand, then naive vs im2col on a CIFAR-sized layer.
//
//   ./build/ch01_demo_convolution          (or: make chapter CH=01)
//
// Part 1 prints a 1x1x4x4 image, a 3x3 kernel, the im2col matrix and the output computed both
// ways. Part 2 times forward and backward of Conv2d(16, 16, 3, padding 1) on a batch of 16
// 32x32 images with each algorithm and prints a Markdown table (ms and GFLOP/s).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/conv/im2col.hpp"
#include "convbook/random.hpp"
#include "chapters/01_convolution/timing.hpp"

using namespace convbook;

namespace {

void print_matrix(const char* title, const float* m, int rows, int cols) {
  std::printf("%s (%d x %d)\n", title, rows, cols);
  for (int i = 0; i < rows; ++i) {
    std::printf("  ");
    for (int j = 0; j < cols; ++j) std::printf("%7.1f", m[i * cols + j]);
    std::printf("\n");
  }
}

void worked_example() {
  std::printf("== 1. A 4x4 image, a 3x3 kernel, no padding, stride 1: a 2x2 output ==\n\n");
  ConvGeometry g;  // N = C = K = 1
  g.H = g.W = 4;
  g.R = g.S = 3;
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[i] = float(i);  // x[h][w] = 4h + w
  // Two taps: 1 on the centre, 10 on the bottom-right corner, so y[p][q] reads
  // x[p+1][q+1] + 10 * x[p+2][q+2] (a cross-correlation, as in PyTorch: the kernel is not
  // flipped).
  const std::vector<float> w = {0, 0, 0, 0, 1, 0, 0, 0, 10};
  print_matrix("image x", x.data(), 4, 4);
  print_matrix("kernel w", w.data(), 3, 3);

  std::vector<float> y_naive(4), y_im2col(4), col(9 * 4), workspace;
  conv2d_forward_naive<float>(g, x.data(), w.data(), nullptr, y_naive.data());
  im2col(g, x.data(), col.data());
  print_matrix("im2col(x): one row per tap (r, s), one column per output (p, q)", col.data(), 9, 4);
  std::printf("  column (p, q) is the 3x3 window under output (p, q), read row by row\n\n");
  conv2d_forward_im2col<float>(g, x.data(), w.data(), nullptr, y_im2col.data(), workspace);
  print_matrix("y = conv2d_forward_naive(x, w)", y_naive.data(), 2, 2);
  print_matrix("y = w (1 x 9) * im2col(x) (9 x 4)", y_im2col.data(), 2, 2);
  std::printf("  e.g. y[0][0] = x[1][1] + 10 * x[2][2] = 5 + 10 * 10 = 105\n\n");
}

void timing() {
  const Shape input = {16, 16, 32, 32};
  std::printf(
      "== 2. Conv2d(16, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)) on %s, "
      "%d OpenMP thread(s) ==\n\n",
      to_string(input).c_str(), omp_get_max_threads());
  manual_seed(0);
  Conv2d conv(Conv2dOptions(16, 16, 3).padding(1));
  Rng rng(1);
  Tensor x = zeros(input);
  for (auto& v : x) v = Scalar(rng.normal());
  Tensor dy = zeros(conv.output_shape(input));
  for (auto& v : dy) v = Scalar(rng.normal());

  std::printf("| algorithm | forward ms | forward GFLOP/s | backward ms | backward GFLOP/s |\n");
  std::printf("|-----------|-----------:|----------------:|------------:|-----------------:|\n");
  double forward_naive = 0;
  for (ConvAlgo algo : {ConvAlgo::Naive, ConvAlgo::Im2col}) {
    conv.set_algorithm(algo);
    const int reps = algo == ConvAlgo::Naive ? 3 : 50;  // best of: the machine may be busy
    const double fwd = best_ms(reps, [&] { conv.forward(x); });
    const double flops = conv.flops();  // 2 N K P Q C R S
    // Backward computes dx and dw, each as many multiply-adds as the forward: 2x the flops.
    const double bwd = best_ms(reps, [&] { conv.backward(dy); });
    if (algo == ConvAlgo::Naive) forward_naive = fwd;
    std::printf("| %-9s | %10.2f | %15.2f | %11.2f | %16.2f |\n",
                algo == ConvAlgo::Naive ? "naive" : "im2col", fwd, flops / fwd * 1e-6, bwd,
                2 * flops / bwd * 1e-6);
    if (algo == ConvAlgo::Im2col) {
      std::printf(
          "\nim2col + GEMM forward is %.0fx faster than the seven loops (which run on one "
          "thread; im2col runs images in parallel on %d). The forward costs %.1f MFLOP, "
          "the backward twice that.\n",
          forward_naive / fwd, omp_get_max_threads(), flops * 1e-6);
    }
  }
}

}  // namespace

int main() {
  worked_example();
  timing();
  return 0;
}
