// Chapter 03 benchmark: where the time of an Inception block goes.
//
//   OMP_NUM_THREADS=1 ./build/ch03_bench_inception [batch]    (batch 128 by default)
//
// On googlenet_cifar's inception3b (64 -> 120 channels at 16x16), best of a few runs after a
// warm-up (timing.hpp), forward + backward, printed as Markdown tables:
// 1. the concatenation of the four branch outputs and its split, naive (one value at a time)
//    against block copies;
// 2. the block branch by branch, with the concat + split and the sum of the four dx;
// 3. fig. 2b against fig. 2a (InceptionNaive) with the same widths.
#include <omp.h>

#include <cstdio>
#include <string>
#include <vector>

#include "chapters/00_framework/random_tensor.hpp"
#include "chapters/01_convolution/timing.hpp"
#include "chapters/03_inception/concat_naive.hpp"
#include "chapters/03_inception/inception.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

std::size_t kBatch = 128;  // the first argument, if given
constexpr int kReps = 5;

// One forward + backward of m on x (dy random); returns the best ms.
double time_module(Module& m, const Tensor& x) {
  const Tensor dy = random_tensor(shape_of(m.forward(x)), 3);
  return best_ms(kReps, [&] {
    m.forward(x);
    m.backward(dy);
  });
}

const InceptionOptions k3b =  // googlenet_cifar's inception3b
    InceptionOptions(64).ch1x1(32).ch3x3red(32).ch3x3(48).ch5x5red(8).ch5x5(24).pool_proj(16);

void concat_table() {
  const std::vector<std::size_t> widths = {32, 48, 24, 16};
  std::vector<Tensor> parts;
  for (std::size_t i = 0; i < widths.size(); ++i)
    parts.push_back(random_tensor({kBatch, widths[i], 16, 16}, 10 + i));
  const std::vector<const Tensor*> ptrs = {&parts[0], &parts[1], &parts[2], &parts[3]};
  const Tensor dy = random_tensor({kBatch, 120, 16, 16}, 20);
  const double naive = best_ms(kReps, [&] {
    concat_channels_naive(ptrs);
    split_channels_naive(dy, widths);
  });
  const double fast = best_ms(kReps, [&] {
    concat_channels(ptrs);
    split_channels(dy, widths);
  });
  std::printf(
      "| concat of 32 + 48 + 24 + 16 channels and its split, (%zu, 120, 16, 16) | "
      "naive ms | block copies ms | speed-up |\n|---|---|---|---|\n| | %.2f | %.2f | "
      "%.1fx |\n\n",
      kBatch, naive, fast, naive / fast);
}

void branch_table() {
  manual_seed(1);
  Inception block(k3b);
  const Tensor x = random_tensor({kBatch, 64, 16, 16}, 4);
  const double total = time_module(block, x);
  std::printf("%s on (%zu, 64, 16, 16), forward + backward: %.2f ms\n\n", block.repr().c_str(),
              kBatch, total);
  std::printf("| part | ms | share | MFLOPs (fwd) | GFLOP/s (fwd+bwd) |\n|---|---|---|---|---|\n");
  double sum = 0;
  std::vector<Tensor> outputs;
  for (const auto& [name, branch] : block.children()) {
    const double ms = time_module(*branch, x);
    const double flops = branch->flops();
    sum += ms;
    outputs.push_back(branch->forward(x));
    std::printf("| %s | %.2f | %.0f%% | %.1f | %.2f |\n", name.c_str(), ms, 100 * ms / total,
                flops / 1e6, 3 * flops / (ms * 1e6));
  }
  // The routing: the concat, the split of dy, and the sum of the four dx.
  const std::vector<const Tensor*> ptrs = {&outputs[0], &outputs[1], &outputs[2], &outputs[3]};
  const Tensor dy = random_tensor({kBatch, 120, 16, 16}, 5);
  const double routing = best_ms(kReps, [&] {
    concat_channels(ptrs);
    const std::vector<Tensor> d = split_channels(dy, {32, 48, 24, 16});
    Tensor dx = x;
    for (int i = 0; i < 3; ++i) dx += x;  // three additions of an x-sized gradient
  });
  sum += routing;
  std::printf("| concat, split, sum of the four dx | %.2f | %.0f%% | | |\n", routing,
              100 * routing / total);
  std::printf("| (block total minus the rows above) | %.2f | %.0f%% | | |\n\n", total - sum,
              100 * (total - sum) / total);
}

void naive_table() {
  manual_seed(1);
  Inception reduced(k3b);
  InceptionNaive naive(k3b);
  const Tensor x = random_tensor({kBatch, 64, 16, 16}, 6);
  std::printf(
      "| block (inception3b's widths) | output channels | MFLOPs (fwd, batch %zu) | ms "
      "(fwd+bwd) | GFLOP/s |\n|---|---|---|---|---|\n",
      kBatch);
  for (Module* m : {static_cast<Module*>(&reduced), static_cast<Module*>(&naive)}) {
    const double ms = time_module(*m, x);
    const Tensor y = m->forward(x);
    std::printf("| %s | %zu | %.1f | %.2f | %.2f |\n", m->repr().c_str(), y.shape()[1],
                m->flops() / 1e6, ms, 3 * m->flops() / (ms * 1e6));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) kBatch = std::stoul(argv[1]);
  std::printf("threads: %d, batch %zu\n\n", omp_get_max_threads(), kBatch);
  concat_table();
  branch_table();
  naive_table();
  return 0;
}
