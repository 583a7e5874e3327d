/// @file deform_benchmark.cpp
/// @brief `convbook bench deform`: naive vs im2col deformable convolution, and the regular
/// convolution of the same shape.
#include "chapters/08_deformable/deform_benchmark.hpp"

#include <omp.h>

#include <cstdio>
#include <string>
#include <vector>

#include "chapters/01_convolution/timing.hpp"
#include "chapters/08_deformable/deform_conv.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"

namespace convbook {

int run_deform_benchmark(const DeformBenchOptions& o, std::ostream& out) {
  if (o.batch < 1 || o.repeats < 1) {
    throw Error("bench deform: --batch=" + std::to_string(o.batch) +
                " --repeats=" + std::to_string(o.repeats) + ", expected both >= 1");
  }
  const std::string shape = "deform3x3_64-64_16x16";
  DeformGeometry g;
  g.N = o.batch;
  g.C = g.K = 64;
  g.H = g.W = 16;
  g.R = g.S = 3;
  g.pad_h = g.pad_w = 1;
  const int P = g.P(), Q = g.Q(), RS = g.R * g.S;
  Rng rng(1);
  auto random = [&](std::size_t n, double lo, double hi) {
    std::vector<Scalar> v(n);
    for (Scalar& e : v) e = Scalar(lo + (hi - lo) * rng.uniform());
    return v;
  };
  const std::vector<Scalar> x = random(std::size_t(g.N) * g.C * g.H * g.W, -1, 1);
  const std::vector<Scalar> w = random(std::size_t(g.K) * g.C * RS, -1, 1);
  const std::vector<Scalar> offset = random(std::size_t(g.N) * 2 * RS * P * Q, -2, 2);
  const std::vector<Scalar> mask = random(std::size_t(g.N) * RS * P * Q, 0, 1);
  const std::vector<Scalar> dy = random(std::size_t(g.N) * g.K * P * Q, -1, 1);
  std::vector<Scalar> y(dy.size()), dx(x.size()), doffset(offset.size()), dmask(mask.size()),
      dw(w.size()), workspace;

  auto deform = [&](DeformAlgo algo, bool backward) {
    deform_conv2d_forward(algo, g, x.data(), offset.data(), mask.data(), w.data(),
                          static_cast<const Scalar*>(nullptr), y.data(), workspace);
    if (!backward) return;
    deform_conv2d_backward(algo, g, x.data(), offset.data(), mask.data(), w.data(), dy.data(),
                           dx.data(), doffset.data(), dmask.data(), dw.data(),
                           static_cast<Scalar*>(nullptr), workspace);
  };

  Conv2d conv(Conv2dOptions(64, 64, 3).padding(1).bias(false));
  Tensor xt = zeros({std::size_t(g.N), 64, 16, 16});
  std::copy(x.begin(), x.end(), xt.begin());
  Tensor dyt = zeros({std::size_t(g.N), 64, 16, 16});
  std::copy(dy.begin(), dy.end(), dyt.begin());

  if (!o.json) {
    out << "| shape | algorithm | threads | fwd ms | fwd+bwd ms |\n|---|---|---:|---:|---:|\n";
  }
  const int threads = omp_get_max_threads();
  auto emit = [&](const std::string& algo, double fwd, double both) {
    char line[256];
    if (o.json) {
      for (const auto& [pass, ms] :
           {std::pair<const char*, double>{"fwd", fwd}, {"fwd+bwd", both}}) {
        std::snprintf(line, sizeof line,
                      "{\"shape\": \"%s\", \"algo\": \"%s\", \"threads\": %d, \"pass\": \"%s\", "
                      "\"ms\": %.4f}\n",
                      shape.c_str(), algo.c_str(), threads, pass, ms);
        out << line;
      }
    } else {
      std::snprintf(line, sizeof line, "| %s | %s | %d | %.2f | %.2f |\n", shape.c_str(),
                    algo.c_str(), threads, fwd, both);
      out << line;
    }
  };
  for (bool naive : {false, true}) {
    if (naive && !o.include_naive) continue;
    const int reps = naive ? 1 : o.repeats;
    const DeformAlgo algo = naive ? DeformAlgo::Naive : DeformAlgo::Im2col;
    const double fwd = best_ms(reps, [&] { deform(algo, false); });
    const double both = best_ms(reps, [&] { deform(algo, true); });
    emit(naive ? "deform-naive" : "deform-im2col", fwd, both);
  }
  const double fwd = best_ms(o.repeats, [&] { conv.forward(xt); });
  const double both = best_ms(o.repeats, [&] {
    conv.forward(xt);
    conv.backward(dyt);
  });
  emit("conv2d-" + to_string(conv.chosen_algorithm()), fwd, both);
  return 0;
}

}  // namespace convbook
