// Chapter 04 benchmark: what grouping buys in time. One 3x3 convolution 128 -> 128 on 16x16
// maps (padding 1, no bias), forward + backward, for G = 1, 2, 4, 8, 32, 128, with the
// algorithm Conv2d's picker chooses (ConvAlgo::Auto), and then AlexNet's conv2 (96 -> 256, 5x5,
// 27x27, always at batch 8) with groups 1 and 2.
//
//   OMP_NUM_THREADS=1 ./build/ch04_bench_groups [batch]    (batch 32 by default)
//
// Prints one Markdown table: params, forward FLOPs (2 x multiply-adds), the algorithm, ms of
// forward + backward (best of 3 after a warm-up, timing.hpp) and GFLOP/s (3 x the forward
// FLOPs over that time).
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "chapters/00_framework/random_tensor.hpp"
#include "chapters/01_convolution/timing.hpp"
#include "convbook/conv/conv2d.hpp"

using namespace convbook;

namespace {

void row(const char* name, const Conv2dOptions& options, const Shape& input) {
  Conv2d conv(options);
  const Tensor x = random_tensor(input, 1);
  const Tensor dy = random_tensor(conv.output_shape(input), 2);
  const double ms = best_ms(3, [&] {
    conv.forward(x);
    conv.zero_grad();
    conv.backward(dy);
  });
  const double flops = conv.flops();
  std::printf("| %s | %zu | %zu | %.2f | %s | %.2f | %.2f |\n", name, options.groups(),
              conv.num_parameters(), flops / input[0] / 1e6,
              to_string(conv.chosen_algorithm()).c_str(), ms, 3 * flops / (ms * 1e6));
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t batch = argc > 1 ? std::size_t(std::atoi(argv[1])) : 32;
  std::printf("batch %zu, forward + backward, best of 3\n\n", batch);
  std::printf("| layer | G | params | MFLOPs / image | algorithm | ms | GFLOP/s |\n");
  std::printf("|---|---:|---:|---:|---|---:|---:|\n");
  for (std::size_t G : {1, 2, 4, 8, 32, 128}) {
    row("conv3x3 128->128, 16x16", Conv2dOptions(128, 128, 3).padding(1).bias(false).groups(G),
        {batch, 128, 16, 16});
  }
  for (std::size_t G : {1, 2}) {
    row("AlexNet conv2 96->256 5x5, 27x27", Conv2dOptions(96, 256, 5).padding(2).groups(G),
        {8, 96, 27, 27});  // batch 8: 0.9 GFLOPs an image dense
  }
  return 0;
}
