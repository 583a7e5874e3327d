// Chapter 06 experiment: are learned 3x3 kernels separable? Loads a small_cnn checkpoint
// (chapter 00's network, trained by `convbook train --model small_cnn`), measures the rank-1
// energy sigma_1^2 / sum sigma^2 of every 3x3 slice w[k, c] of every convolution, then replaces
// the slices by their best rank-1 approximations, one layer at a time and all at once, and
// measures the test accuracy each time.
//
//   ./build/ch06_demo_rank1 CHECKPOINT [--data DIR] [--max-test N] [--threads T]
//
// Random N(0, 1) 3x3 matrices are measured too, as the yardstick of "no structure".
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "chapters/00_framework/small_cnn.hpp"
#include "chapters/06_separable/rank1.hpp"
#include "chapters/06_separable/svd.hpp"
#include "convbook/data/cifar.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/random.hpp"
#include "convbook/train/trainer.hpp"

using namespace convbook;

namespace {

void print_quantiles(const std::string& what, const std::vector<double>& e) {
  std::printf("| %s | %zu |", what.c_str(), e.size());
  for (double q : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9}) std::printf(" %.3f |", quantile(e, q));
  std::size_t above = 0;
  for (double v : e) above += v >= 0.9;
  std::printf(" %.0f%% |\n", 100.0 * double(above) / double(e.size()));
}

// A text histogram of the energies in bins of 0.05 from 1/3 (the least a 3x3 can have) to 1.
void print_histogram(const std::vector<double>& e) {
  const double lo = 1.0 / 3.0, width = (1.0 - lo) / 12;
  std::vector<std::size_t> bins(12, 0);
  for (double v : e) bins[std::min<std::size_t>(11, std::size_t((v - lo) / width))]++;
  for (std::size_t b = 0; b < bins.size(); ++b) {
    std::printf("  [%.3f, %.3f) %5zu %s\n", lo + b * width, lo + (b + 1) * width, bins[b],
                std::string(bins[b] * 60 / e.size(), '#').c_str());
  }
}

}  // namespace

int main(int argc, char** argv) try {
  std::string checkpoint, data;
  std::size_t max_test = 0;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--data") {
      data = value();
    } else if (a == "--max-test") {
      max_test = std::stoul(value());
    } else if (a == "--threads") {
      threads = std::stoi(value());
    } else if (checkpoint.empty() && a.rfind("--", 0) != 0) {
      checkpoint = a;
    } else {
      throw Error("unknown argument '" + a +
                  "'; usage: ch06_demo_rank1 CHECKPOINT [--data DIR] [--max-test N] [--threads T]");
    }
  }
  if (checkpoint.empty()) throw Error("missing CHECKPOINT (a small_cnn checkpoint.safetensors)");
  if (threads > 0) omp_set_num_threads(threads);

  const CifarData d = load_cifar10(data);
  const CifarSet test = take_first(d.test, max_test);
  std::printf("data: %s; %zu test images\n", d.description.c_str(), test.size());
  ModulePtr model = small_cnn(std::size_t(d.test.num_classes));
  load_checkpoint(checkpoint, *model);
  const double base = evaluate(*model, test, 256).accuracy;
  std::printf("checkpoint %s: test accuracy %.2f%%\n\n", checkpoint.c_str(), 100 * base);

  // Energies: every learned layer, all of them, and random matrices.
  std::printf("| kernels | count | min | 10%% | 25%% | median | 75%% | 90%% | >= 0.9 |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::vector<double> all;
  for (const auto& [name, conv] : find_convolutions(*model, 3, 3)) {
    const std::vector<double> e = kernel_rank1_energies(*conv);
    print_quantiles("`" + name + "` " + conv->repr().substr(0, conv->repr().find(", kernel")) + ")",
                    e);
    all.insert(all.end(), e.begin(), e.end());
  }
  print_quantiles("all learned", all);
  Rng rng(6);
  std::vector<double> random;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::vector<double> a(9);
    for (double& v : a) v = rng.normal();
    random.push_back(rank1_energy(svd_jacobi(a, 3, 3).S));
  }
  print_quantiles("random N(0, 1)", random);
  std::printf("\nhistogram of the learned energies:\n");
  print_histogram(all);
  std::printf("histogram of the random energies:\n");
  print_histogram(random);

  // Accuracy with rank-1 kernels: one layer at a time (the others as trained), then all.
  std::printf("\n| layer made rank-1 | energy removed | test accuracy | change |\n");
  std::printf("|---|---:|---:|---:|\n");
  const std::size_t layers = find_convolutions(*model, 3, 3).size();
  for (std::size_t i = 0; i <= layers; ++i) {
    load_checkpoint(checkpoint, *model);
    const auto convs = find_convolutions(*model, 3, 3);
    double removed = 0;
    std::string what = "all";
    if (i < layers) {
      removed = replace_kernels_by_rank1(*convs[i].second);
      what = "`" + convs[i].first + "`";
    } else {
      // The energy removed from all layers together, weighted by each layer's own energy.
      double num = 0, den = 0;
      for (const auto& [name, conv] : convs) {
        double norm2 = 0;
        for (Scalar v : conv->weight.value) norm2 += double(v) * double(v);
        num += replace_kernels_by_rank1(*conv) * norm2;
        den += norm2;
      }
      removed = num / den;
    }
    const double acc = evaluate(*model, test, 256).accuracy;
    std::printf("| %s | %.1f%% | %.2f%% | %+.2f |\n", what.c_str(), 100 * removed, 100 * acc,
                100 * (acc - base));
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ch06_demo_rank1: error: %s\n", e.what());
  return 2;
}
