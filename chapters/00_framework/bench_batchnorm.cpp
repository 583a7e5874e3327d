// Chapter 00 benchmark: BatchNorm2d's kernels, naive against fast, on the activation shapes of
// CIFAR ResNet-20 at batch 128, where `convbook bench model --profile` shows them; then what a
// layer costs beyond its kernel, for ReLU: the kernel into a reused buffer against the layer,
// which allocates its output tensor on every call.
//
//   ./build/ch00_bench_batchnorm [batch] [repeats]    (128 and 10 by default)
//
// Prints two Markdown tables, the best ms of each after a warm-up: BatchNorm's training-mode
// forward (statistics + normalize) and backward, naive and fast, per shape and thread count;
// ReLU's kernel and layer, forward and backward, per shape.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "chapters/00_framework/model_benchmark.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

template <typename F>
double best_ms(int repeats, F&& f) {
  f();  // warm-up: pages fault in, threads wake
  const std::vector<double> s = call_seconds(repeats, f);
  return 1e3 * *std::min_element(s.begin(), s.end());
}

void batchnorm_row(const Shape& s, int threads, int repeats) {
  omp_set_num_threads(threads);
  const auto [N, C, H, W] = s;
  Rng rng(1);
  std::vector<float> x(N * C * H * W), dy(x.size()), y(x.size()), dx(x.size());
  for (float& v : x) v = float(rng.normal(0.5, 2));
  for (float& v : dy) v = float(rng.normal());
  std::vector<float> mean(C), var(C), invstd(C, 1.f), gamma(C, 1.f), beta(C), dg(C), db(C);
  auto fwd_naive = [&] {
    batchnorm2d_batch_stats(x.data(), mean.data(), var.data(), N, C, H, W);
    batchnorm2d_forward(x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(), y.data(),
                        N, C, H, W);
  };
  auto fwd_fast = [&] {
    batchnorm2d_batch_stats_fast(x.data(), mean.data(), var.data(), N, C, H, W);
    batchnorm2d_forward_fast(x.data(), mean.data(), invstd.data(), gamma.data(), beta.data(),
                             y.data(), N, C, H, W);
  };
  auto bwd_naive = [&] {
    batchnorm2d_backward(x.data(), mean.data(), invstd.data(), gamma.data(), dy.data(), dx.data(),
                         dg.data(), db.data(), N, C, H, W, true);
  };
  auto bwd_fast = [&] {
    batchnorm2d_backward_fast(x.data(), mean.data(), invstd.data(), gamma.data(), dy.data(),
                              dx.data(), dg.data(), db.data(), N, C, H, W, true);
  };
  const double fn = best_ms(repeats, fwd_naive), ff = best_ms(repeats, fwd_fast);
  const double bn = best_ms(repeats, bwd_naive), bf = best_ms(repeats, bwd_fast);
  std::printf("| BatchNorm2d | %s | %d | %.3f | %.3f | %.1fx | %.3f | %.3f | %.1fx |\n",
              to_string(s).c_str(), threads, fn, ff, fn / ff, bn, bf, bn / bf);
}

// ReLU is single-threaded: one row per shape.
void relu_row(const Shape& s, int repeats) {
  Rng rng(2);
  Tensor x = zeros(s), dy = zeros(s);
  for (auto& v : x) v = Scalar(rng.normal());
  for (auto& v : dy) v = Scalar(rng.normal());
  Tensor y = zeros(s), dx = zeros(s);
  const double fn = best_ms(repeats, [&] { relu_forward(x.data(), y.data(), x.size()); });
  const double bn =
      best_ms(repeats, [&] { relu_backward(y.data(), dy.data(), dx.data(), x.size()); });
  ReLU relu;
  const double fl = best_ms(repeats, [&] { relu.forward(x); });
  const double bl = best_ms(repeats, [&] { relu.backward(dy); });
  std::printf("| %s | %.3f | %.3f | %.3f | %.3f |\n", to_string(s).c_str(), fn, fl, bn, bl);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t N = argc > 1 ? std::size_t(std::atoi(argv[1])) : 128;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 10;
  std::printf("batch %zu, best of %d after a warm-up; ms\n\n", N, repeats);
  std::printf(
      "| layer | shape | threads | fwd naive | fwd fast | speed-up | bwd naive | bwd fast |"
      " speed-up |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  const std::vector<Shape> shapes = {{N, 16, 32, 32}, {N, 32, 16, 16}, {N, 64, 8, 8}};
  for (const Shape& s : shapes) {
    for (int threads : {1, 2}) batchnorm_row(s, threads, repeats);
  }
  std::printf(
      "\n| ReLU shape | kernel fwd | layer fwd | kernel bwd | layer bwd |\n"
      "|---|---:|---:|---:|---:|\n");
  for (const Shape& s : shapes) relu_row(s, repeats);
  return 0;
}
