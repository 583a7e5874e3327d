// Chapter 07 benchmark: does dilation cost time? The layers of dilated_cifar's stack
// (3x3, 64 -> 64 channels, 16x16, "same" padding) with dilation 1, 2 and 5, forward +
// backward, with each algorithm that supports them and with Auto.
//
//   OMP_NUM_THREADS=1 ./build/ch07_bench_dilated [batch]    (batch 32 by default)
//
// Prints a Markdown table: best of 10 runs (1 for naive) after a warm-up (timing.hpp), ms and
// GFLOP/s of forward + backward (3x the forward's FLOPs, which dilation does not change).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "chapters/01_convolution/timing.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/random.hpp"

using namespace convbook;

int main(int argc, char** argv) {
  const std::size_t N = argc > 1 ? std::size_t(std::atoi(argv[1])) : 32;
  const std::size_t C = 64, H = 16;
  Rng rng(1);
  Tensor x = zeros({N, C, H, H});
  for (auto& v : x) v = Scalar(rng.normal());
  std::printf("| dilation | algorithm | ms (fwd + bwd) | GFLOP/s |\n|---|---|---:|---:|\n");
  for (int d : {1, 2, 5}) {
    const Conv2dOptions o = Conv2dOptions(C, C, 3).padding(d).dilation(d).bias(false);
    for (ConvAlgo algo : {ConvAlgo::Auto, ConvAlgo::Im2col, ConvAlgo::Winograd4, ConvAlgo::Naive}) {
      Conv2d conv(o);
      conv.set_algorithm(algo);
      Tensor y;
      try {
        y = conv.forward(x);
      } catch (const std::exception&) {
        continue;  // the algorithm does not support this layer (Winograd with d > 1, ...)
      }
      Tensor dy = zeros(shape_of(y));
      for (auto& v : dy) v = Scalar(rng.normal());
      const int reps = algo == ConvAlgo::Naive ? 1 : 10;
      const double ms = best_ms(reps, [&] {
        conv.forward(x);
        conv.backward(dy);
      });
      const std::string name = algo == ConvAlgo::Auto
                                   ? "auto (" + to_string(conv.chosen_algorithm()) + ")"
                                   : to_string(algo);
      std::printf("| %d | %s | %.1f | %.1f |\n", d, name.c_str(), ms,
                  3 * conv.flops() / (ms * 1e6));
    }
  }
  return 0;
}
