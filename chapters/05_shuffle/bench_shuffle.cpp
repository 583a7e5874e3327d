// Chapter 05 benchmark: where the time of a ShuffleNet unit goes.
//
//   ./build/ch05_bench_shuffle [batch]    (batch 128 by default; OMP_NUM_THREADS=1 for one thread)
//
// Prints two Markdown tables, best of a few runs after a warm-up (timing.hpp):
// 1. the channel shuffle, forward + backward, naive (one value at a time) against whole-plane
//    copies, on the shapes the CIFAR ShuffleNet shuffles;
// 2. one stride-1 unit of each stage of shufflenet_v1_cifar, layer by layer (forward +
//    backward): ms, share of the unit, FLOPs (2 x multiply-adds, forward) and
//    GFLOP/s of the forward + backward (3x the forward's FLOPs).
#include <omp.h>

#include <cstdio>
#include <string>
#include <vector>

#include "chapters/00_framework/random_tensor.hpp"
#include "chapters/01_convolution/timing.hpp"
#include "chapters/05_shuffle/channel_shuffle.hpp"
#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

std::size_t kBatch = 128;  // the first argument, if given
constexpr int kReps = 5;

void shuffle_table() {
  std::printf("| shape (N, C, H, W) | G | naive ms | planes ms | speed-up |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const Shape& s : std::vector<Shape>{
           {kBatch, 30, 32, 32}, {kBatch, 30, 16, 16}, {kBatch, 60, 8, 8}, {kBatch, 120, 4, 4}}) {
    const Tensor x = random_tensor(s, 1), dy = random_tensor(s, 2);
    double ms[2];
    for (int naive = 1; naive >= 0; --naive) {
      ChannelShuffle shuffle(3);
      shuffle.set_naive(naive == 1);
      ms[naive] = best_ms(kReps, [&] {
        shuffle.forward(x);
        shuffle.backward(dy);
      });
    }
    std::printf("| %s | 3 | %.3f | %.3f | %.1fx |\n", to_string(s).c_str(), ms[1], ms[0],
                ms[1] / ms[0]);
  }
}

// Times one layer's forward + backward on input x; returns ms.
double time_layer(Module& m, const Tensor& x) {
  const Tensor y = m.forward(x);
  const Tensor dy = random_tensor(shape_of(y), 3);
  return best_ms(kReps, [&] {
    m.forward(x);
    m.backward(dy);
  });
}

void unit_table(std::size_t C, std::size_t HW) {
  manual_seed(1);
  ShuffleUnit unit(ShuffleUnitOptions(C, C).groups(3));
  const Tensor x = random_tensor({kBatch, C, HW, HW}, 4);
  const double total = time_layer(unit, x);
  std::printf("\n%s on (%zu, %zu, %zu, %zu), forward + backward: %.2f ms\n\n", unit.repr().c_str(),
              kBatch, C, HW, HW, total);
  std::printf("| layer | ms | share | MFLOPs (fwd) | GFLOP/s (fwd+bwd) |\n");
  std::printf("|---|---|---|---|---|\n");
  // Each child on the input it sees inside the unit.
  Tensor h = x;
  double sum = 0;
  for (const auto& [name, child] : unit.children()) {
    if (name == "relu_out" || name == "shortcut") continue;
    const double ms = time_layer(*child, h);
    const double flops = child->flops();
    sum += ms;
    std::printf("| %s: %s | %.2f | %.0f%% | %.1f | %.2f |\n", name.c_str(), child->repr().c_str(),
                ms, 100 * ms / total, flops / 1e6, flops > 0 ? 3 * flops / (ms * 1e6) : 0.0);
    h = child->forward(h);
  }
  // The merge: the residual sum (forward), ReLU forward + backward, and the sum of the two
  // paths' gradients at x (backward).
  const Tensor a = random_tensor(shape_of(x), 5), b = random_tensor(shape_of(x), 6);
  ReLU relu;
  const double merge = best_ms(kReps, [&] {
    const Tensor merged = a + b;
    const Tensor dmerged = relu.backward(relu.forward(merged));
    const Tensor dx = dmerged + b;
  });
  sum += merge;
  std::printf("| merge: sum, relu_out, gradient sum at x | %.2f | %.0f%% | | |\n", merge,
              100 * merge / total);
  std::printf("| (unit total minus the rows above) | %.2f | %.0f%% | | |\n", total - sum,
              100 * (total - sum) / total);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) kBatch = std::stoul(argv[1]);
  std::printf("threads: %d\n\n", omp_get_max_threads());
  shuffle_table();
  unit_table(120, 16);
  unit_table(240, 8);
  unit_table(480, 4);
  return 0;
}
