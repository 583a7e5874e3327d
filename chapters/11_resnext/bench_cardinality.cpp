// Cardinality against width at (about) equal complexity, the paper's Table 2 as blocks: each
// ResNeXt block 256 -> 256 of the conv2 stage of ResNeXt-50 (56x56), G groups of d channels
// with G d chosen so that the block keeps ~70k parameters, then the 32x4d block in its three
// equivalent forms. Parameters, FLOPs (Module::flops, what `convbook info` prints) and measured
// time of forward and forward + backward at one thread.
//
//   ./build/ch11_bench_cardinality [batch] [repeats]     (batch 4, best of 3 by default)
//
// Times are CPU time of the process (chapter 01's ProcessCpuClock, as chapter 06's
// bench_design_tricks): at one thread, the time the block computed, not the time it waited for
// a core on a shared machine. Prints one Markdown table.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "chapters/00_framework/random_tensor.hpp"
#include "chapters/01_convolution/timing.hpp"
#include "chapters/11_resnext/resnext_forms.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

struct Row {
  const char* form;  // as the table prints it
  ResNeXtForm kind;
  std::size_t cardinality, width;  // G, d
};

//! [table2-rows]
// Table 2 of the paper: G d grows slower than G, because the 3x3's cost is G d^2 while the
// two 1x1s' is 2 * 256 G d; then the three forms of 32x4d.
const std::vector<Row> rows = {
    {"(c)", ResNeXtForm::C, 1, 64}, {"(c)", ResNeXtForm::C, 2, 40}, {"(c)", ResNeXtForm::C, 4, 24},
    {"(c)", ResNeXtForm::C, 8, 14}, {"(c)", ResNeXtForm::C, 32, 4}, {"(b)", ResNeXtForm::B, 32, 4},
    {"(a)", ResNeXtForm::A, 32, 4},
};
//! [table2-rows]

}  // namespace

int main(int argc, char** argv) {
  const std::size_t batch = argc > 1 ? std::size_t(std::atoi(argv[1])) : 4;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  if (batch == 0 || repeats < 1) {
    std::fprintf(stderr, "usage: %s [batch >= 1] [repeats >= 1]\n", argv[0]);
    return 2;
  }
  constexpr std::size_t kChannels = 256, kSize = 56;
  omp_set_num_threads(1);
  const Tensor x = random_tensor({batch, kChannels, kSize, kSize}, 1);
  std::printf("C = K = %zu, %zux%zu, stride 1, batch %zu, 1 thread, CPU ms, best of %d\n\n",
              kChannels, kSize, kSize, batch, repeats);
  std::printf("| form | G x d | width G d | params | MFLOPs / image | fwd ms | fwd+bwd ms |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    manual_seed(1);
    ModulePtr block = resnext_block(r.kind, {kChannels, kChannels, r.cardinality, r.width});
    const Tensor dy = block->forward(x);  // any dy of the output's shape does
    const double fwd = best_ms<ProcessCpuClock>(repeats, [&] { block->forward(x); });
    const double fwd_bwd = best_ms<ProcessCpuClock>(repeats, [&] {
      block->forward(x);
      block->zero_grad();
      block->backward(dy);
    });
    std::printf("| %s | %zux%zud | %zu | %zu | %.1f | %.1f | %.1f |\n", r.form, r.cardinality,
                r.width, r.cardinality * r.width, block->num_parameters(),
                block->flops() / batch / 1e6, fwd, fwd_bwd);
    std::fflush(stdout);
  }
  return 0;
}
