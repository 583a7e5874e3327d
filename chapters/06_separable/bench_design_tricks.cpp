// The design tricks of the source notes side by side: each block at equal width (C = K = 64
// channels in and out, 16x16 maps, stride 1), its parameters, its FLOPs (Module::flops, what
// `convbook info` prints) and its measured time at one thread.
//
//   ./build/ch06_bench_design_tricks [batch] [repeats] [row...]   (batch 32, best of 5 by default)
//
// Each further argument keeps only the rows whose name starts with it ("plain conv3x3"
// "Inception"): a new row can be timed beside the baseline without re-timing the whole table.
//
// Times are CPU time of the process (timing.hpp's ProcessCpuClock), not wall time: at one
// thread they are the time the block computed, without the time it waited for a core while
// other jobs shared the machine. Prints one Markdown table. Each row is a block as its chapter
// builds it; a block that is a stack of bare convolutions (the chapter 02 bottleneck, the chapter
// 04 grouped layer) has no BN and no ReLU, which the "BN" column says. Adding a block is one line
// in blocks() below.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "chapters/00_framework/random_tensor.hpp"
#include "chapters/01_convolution/timing.hpp"
#include "chapters/02_pointwise/channel_mixing.hpp"
#include "chapters/03_inception/inception.hpp"
#include "chapters/04_grouped/grouped_models.hpp"
#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "chapters/06_separable/separable_blocks.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

constexpr std::size_t kWidth = 64, kSize = 16;

struct BlockEntry {
  const char* name;     // what the table calls it
  const char* chapter;  // where the book builds it
  bool bn;              // whether the block holds its own BN-ReLU
  std::function<ModulePtr()> make;
};

// A 3x3 convolution with its BN and ReLU, or (conv = false) the BN and ReLU alone: the
// yardstick of what the blocks' BatchNorms cost.
ModulePtr conv_bn_relu(std::size_t width, bool conv = true) {
  auto s = std::make_unique<Sequential>();
  if (conv) s->emplace<Conv2d>(Conv2dOptions(width, width, 3).padding(1).bias(false));
  s->emplace<BatchNorm2d>(width);
  s->emplace<ReLU>();
  return s;
}

template <typename Block>
ModulePtr make_block(const SeparableOptions& options) {
  return std::make_unique<Block>(options);
}

//! [design-tricks-blocks]
// One line a block, C = K = kWidth, stride 1, in book order.
const std::vector<BlockEntry>& blocks() {
  const std::size_t C = kWidth;
  static const std::vector<BlockEntry> entries = {
      {"BN + ReLU alone (no convolution: the yardstick)", "00", true,
       [=] { return conv_bn_relu(C, false); }},
      {"plain conv3x3", "00", true, [=] { return conv_bn_relu(C); }},
      {"1x1 bottleneck (1x1 C/4, 3x3, 1x1)", "02", false,
       [=] { return bottleneck_stack(C, C / 4); }},
      // Inception (3a)'s widths (64, 96 -> 128, 16 -> 32, 32 of K = 256) at a quarter, so the
      // branches sum to K = C: 1x1 16, 1x1 24 -> 3x3 32, 1x1 4 -> 5x5 8, pool -> 1x1 8.
      {"Inception, fig. 2b (16, 24 -> 32, 4 -> 8, 8)", "03", true,
       [=] {
         return std::make_unique<Inception>(InceptionOptions(C)
                                                .ch1x1(C / 4)
                                                .ch3x3red(3 * C / 8)
                                                .ch3x3(C / 2)
                                                .ch5x5red(C / 16)
                                                .ch5x5(C / 8)
                                                .pool_proj(C / 8));
       }},
      {"grouped conv3x3, G = 8", "04", false, [=] { return grouped_conv3x3_stack(C, 8); }},
      {"ShuffleNet unit, G = 4, M = C/4", "05", true,
       [=] { return std::make_unique<ShuffleUnit>(ShuffleUnitOptions(C, C).groups(4)); }},
      {"depthwise-separable (MobileNet)", "06", true,
       [=] { return make_block<DepthwiseSeparable>(SeparableOptions(C, C)); }},
      {"depthwise-separable (Xception order, no middle BN-ReLU)", "06", true,
       [=] {
         return make_block<DepthwiseSeparable>(
             SeparableOptions(C, C).order(SeparableOrder::PointwiseFirst).middle_bn_relu(false));
       }},
      {"spatially separable 3x1 + 1x3", "06", true,
       [=] { return make_block<SpatiallySeparable>(SeparableOptions(C, C)); }},
      {"flattened (1x1, 3x1 dw, 1x3 dw)", "06", true,
       [=] { return make_block<Flattened>(SeparableOptions(C, C)); }},
  };
  return entries;
}
//! [design-tricks-blocks]

}  // namespace

int main(int argc, char** argv) {
  const std::size_t batch = argc > 1 ? std::size_t(std::atoi(argv[1])) : 32;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  if (batch == 0 || repeats < 1) {
    std::fprintf(stderr, "usage: %s [batch >= 1] [repeats >= 1] [row name prefix...]\n", argv[0]);
    return 2;
  }
  const std::vector<std::string> only(argv + std::min(argc, 3), argv + argc);
  auto wanted = [&](const std::string& name) {
    if (only.empty()) return true;
    for (const std::string& prefix : only)
      if (name.compare(0, prefix.size(), prefix) == 0) return true;
    return false;
  };
  omp_set_num_threads(1);
  const Tensor x = random_tensor({batch, kWidth, kSize, kSize}, 1);
  std::printf("C = K = %zu, %zux%zu, stride 1, batch %zu, 1 thread, CPU ms, best of %d\n\n", kWidth,
              kSize, kSize, batch, repeats);
  std::printf("| block | ch. | BN | params | MFLOPs / image | fwd ms | fwd+bwd ms |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|\n");
  for (const BlockEntry& e : blocks()) {
    if (!wanted(e.name)) continue;
    manual_seed(1);
    ModulePtr block = e.make();
    const Tensor dy = block->forward(x);  // any dy of the output's shape does
    const double fwd = best_ms<ProcessCpuClock>(repeats, [&] { block->forward(x); });
    const double fwd_bwd = best_ms<ProcessCpuClock>(repeats, [&] {
      block->forward(x);
      block->zero_grad();
      block->backward(dy);
    });
    std::printf("| %s | %s | %s | %zu | %.2f | %.2f | %.2f |\n", e.name, e.chapter,
                e.bn ? "yes" : "no", block->num_parameters(), block->flops() / batch / 1e6, fwd,
                fwd_bwd);
    std::fflush(stdout);
  }
  return 0;
}
