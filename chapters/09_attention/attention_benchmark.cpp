/// @file attention_benchmark.cpp
/// @brief The timing table of `convbook bench attention`: SE and CBAM (gates added after a
/// conv3x3, naive and fused), SK and split attention (blocks that replace a conv3x3), each
/// beside the conv3x3 of the same shape.
#include "chapters/09_attention/attention_benchmark.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <string>
#include <vector>

#include "chapters/09_attention/cbam.hpp"
#include "chapters/09_attention/selective_kernel.hpp"
#include "chapters/09_attention/split_attention.hpp"
#include "chapters/09_attention/squeeze_excitation.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"

namespace convbook {

namespace {

// Best CPU time of `repeats` calls of f in milliseconds, after one warm-up call. CPU time of
// the process, not wall time: on a shared machine this process is time-shared and sometimes
// paused, which wall time would count; with one thread, CPU time is the work itself.
template <typename F>
double best_cpu_ms(int repeats, F&& f) {
  f();
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < repeats; ++i) {
    const std::clock_t t0 = std::clock();
    f();
    best = std::min(best, 1000.0 * double(std::clock() - t0) / CLOCKS_PER_SEC);
  }
  return best;
}

struct Timing {
  double forward = 0, forward_backward = 0;
};

Timing time_module(Module& m, const Tensor& x, int repeats) {
  Tensor y;
  Timing t;
  t.forward = best_cpu_ms(repeats, [&] { y = m.forward(x); });
  t.forward_backward = best_cpu_ms(repeats, [&] { m.backward(m.forward(x)); });
  return t;
}

}  // namespace

int run_attention_benchmark(std::size_t batch, int repeats, int threads, std::ostream& out) {
  if (batch == 0 || repeats <= 0 || threads <= 0) {
    throw Error("bench attention: --batch=" + std::to_string(batch) +
                " --repeats=" + std::to_string(repeats) + " --threads=" + std::to_string(threads) +
                ", expected each >= 1");
  }
  omp_set_num_threads(threads);
  out << "best CPU ms of " << repeats << " runs after a warm-up, " << threads << " thread(s)"
      << (threads > 1 ? " (CPU time sums the threads)" : "") << "\n\n";
  char line[256];
  out << "| shape (N, C, H, W) | block | fwd ms | fwd+bwd ms | fwd+bwd vs conv3x3 |\n"
         "|---|---|---|---|---|\n";
  for (const std::size_t C : {16, 32, 64}) {
    const std::size_t side = 32 * 16 / C;  // attention_cnn's stages: 32x32, 16x16, 8x8
    const Shape s{batch, C, side, side};
    Rng rng(1);
    Tensor x = zeros(s);
    for (auto& v : x) v = Scalar(rng.normal());
    manual_seed(1);
    Conv2d conv(Conv2dOptions(C, C, 3).padding(1).bias(false));
    SqueezeExcitation se(C, 4);
    CBAM cbam(C, 4, 7);
    const Timing ref = time_module(conv, x, repeats);
    struct Row {
      std::string name;
      Timing t;
    };
    std::vector<Row> rows{{"conv3x3 (reference)", ref}};
    for (bool naive : {true, false}) {
      se.set_naive(naive);
      cbam.set_naive(naive);
      const std::string how = naive ? " naive" : " fused";
      rows.push_back({"SE r=4" + how, time_module(se, x, repeats)});
      rows.push_back({"CBAM r=4 k=7" + how, time_module(cbam, x, repeats)});
      rows.push_back({"  its channel gate" + how, time_module(cbam.channel_gate, x, repeats)});
      rows.push_back({"  its spatial gate" + how, time_module(cbam.spatial_gate, x, repeats)});
    }
    // SK and split attention stand in for the conv3x3 itself (sk_cifar's and splat_cifar's
    // settings): two branches or splits, then the fuse and select.
    SelectiveKernel sk(SelectiveKernelOptions(C, C).branches(2).groups(4));
    SplitAttention splat(SplitAttentionOptions(C, C, 3).padding(1).radix(2).cardinality(2));
    rows.push_back({"SK M=2 G=4 (replaces the conv)", time_module(sk, x, repeats)});
    rows.push_back({"split attention R=2 K=2 (replaces the conv)", time_module(splat, x, repeats)});
    for (const Row& r : rows) {
      std::snprintf(line, sizeof line, "| %s | %s | %.2f | %.2f | %.2f |\n", to_string(s).c_str(),
                    r.name.c_str(), r.t.forward, r.t.forward_backward,
                    r.t.forward_backward / ref.forward_backward);
      out << line;
    }
  }
  return 0;
}

}  // namespace convbook
