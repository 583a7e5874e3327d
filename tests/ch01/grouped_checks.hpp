// Shared by test_grouped.cpp (float) and test_grouped_f64.cpp (double): the grouped kernel
// (ConvAlgo::Grouped) against the seven-loop reference on a grid of odd configurations. The
// including file defines, inside an anonymous namespace and before including this, the scalar
// type `T` and the tolerance `kTolerance` it accepts, then includes this file in that same
// namespace. The test cases keep one name in both programs; ctest tells them apart by the
// program's prefix (ch01: / ch01_f64:).
#include "kernel_checks.hpp"

/// Checks the grouped kernel against naive (see check_kernel_matches_naive).
void check_matches_naive(const ConvGeometry& g, bool with_bias, std::vector<T>& ws) {
  check_kernel_matches_naive(conv2d_forward_grouped<T>, conv2d_backward_grouped<T>, g, with_bias,
                             ws);
}

using Pair = std::pair<int, int>;

/// Channels per group and number of groups of one test layer: C = G*Cg, K = G*Kg.
struct Groups {
  int G, Cg, Kg;
};

ConvGeometry geometry(int N, const Groups& gr, Pair image, Pair kernel, Pair pad, Pair dilation) {
  ConvGeometry g;
  g.N = N, g.G = gr.G, g.C = gr.G * gr.Cg, g.K = gr.G * gr.Kg;
  g.H = image.first, g.W = image.second;
  g.R = kernel.first, g.S = kernel.second;
  g.pad_h = pad.first, g.pad_w = pad.second;
  g.dil_h = dilation.first, g.dil_w = dilation.second;
  return g;
}

// 7x5 and 13x9: odd sizes, less than one vector per row; 1x1: a single pixel; 9x16 one whole
// vector of floats (two of doubles); 5x37: two whole vectors and a partial one. Heights 7, 9
// and 13 leave a partial block of rows (blocks of 2, 4 and 8 rows).
const std::vector<Pair> kImages = {{7, 5}, {1, 1}, {13, 9}, {9, 16}, {5, 37}};
// Every padding 0..2, also different per direction; (0, 2) with a 1-wide kernel crops dy in
// the backward-data convolution ((S-1)*dil - pad < 0).
const std::vector<Pair> kPads = {{0, 0}, {1, 1}, {2, 2}, {0, 2}, {2, 1}};
const std::vector<Pair> kKernels = {{3, 3}, {1, 1}, {5, 3}, {2, 4}};
const std::vector<Pair> kDilations = {{1, 1}, {2, 1}};
// Batch 1 without bias and batch 3 with: both batch sizes and both bias settings.
const std::vector<std::pair<int, bool>> kBatchBias = {{1, false}, {3, true}};

/// Every image x kernel x padding x dilation x (batch, bias) for one channel setup; returns how
/// many configurations had an output (the others are skipped: the kernel does not fit). The
/// callers check that count, so a grid that silently shrank would fail.
int check_grid(const Groups& groups, const std::vector<Pair>& kernels) {
  std::vector<T> ws;
  int checked = 0;
  for (const Pair& image : kImages)
    for (const Pair& kernel : kernels)
      for (const Pair& pad : kPads)
        for (const Pair& dilation : kDilations)
          for (const auto& [N, bias] : kBatchBias) {
            const ConvGeometry g = geometry(N, groups, image, kernel, pad, dilation);
            if (g.P() <= 0 || g.Q() <= 0) continue;
            INFO("N" << N << " G" << groups.G << " Cg" << groups.Cg << " Kg" << groups.Kg << " "
                     << g.H << "x" << g.W << " kernel " << g.R << "x" << g.S << " pad " << g.pad_h
                     << "," << g.pad_w << " dilation " << g.dil_h << "," << g.dil_w
                     << (bias ? " bias" : " no bias"));
            check_matches_naive(g, bias, ws);
            ++checked;
          }
  return checked;
}

TEST_CASE("grouped equals naive on odd shapes, every padding, 1 to 32 channels per group",
          "[conv][grouped]") {
  // Output-channel blocks of 8, 4, 2 and 1 and weight-gradient tap blocks of 6 and 8 with
  // their one-by-one tails: Kg = 1, 3, 4, 5, 7, 8, 15, 16 reach every combination.
  CHECK(check_grid({2, 3, 5}, kKernels) == 348);
  CHECK(check_grid({3, 1, 8}, kKernels) == 348);
  CHECK(check_grid({4, 8, 1}, kKernels) == 348);
  CHECK(check_grid({2, 4, 4}, kKernels) == 348);
  CHECK(check_grid({5, 2, 7}, {{3, 3}}) == 90);
  CHECK(check_grid({2, 6, 3}, {{3, 3}, {1, 1}}) == 190);
  CHECK(check_grid({2, 5, 15}, {{3, 3}}) == 90);
  CHECK(check_grid({1, 16, 16}, {{3, 3}}) == 90);  // one group: a dense layer
  CHECK(check_grid({32, 4, 4}, {{3, 3}}) == 90);   // ResNeXt's 32 groups of 4
  CHECK(check_grid({1, 32, 29}, {{5, 3}}) == 74);  // the widest: 5x5 and dilated layers
}

TEST_CASE("grouped equals naive on a layer large enough to run in parallel", "[conv][grouped]") {
  // The grid above is small enough to run on one thread (starting a team costs more than the
  // work); this layer has enough images and work for every thread.
  std::vector<T> ws;
  check_matches_naive(geometry(6, {8, 4, 4}, {20, 37}, {3, 3}, {1, 1}, {1, 1}), true, ws);
}

TEST_CASE("grouped leaves a wide layer's weight gradient to im2col, same result",
          "[conv][grouped]") {
  // 32 x 32 channels, 5x5: 32 * 800 vector sums of dw would not fit in L2, so dw comes from
  // im2col's GEMM while dx and db stay on the grouped kernels.
  std::vector<T> ws;
  check_matches_naive(geometry(2, {1, 32, 32}, {9, 17}, {5, 5}, {2, 2}, {1, 1}), true, ws);
  check_matches_naive(geometry(1, {1, 32, 31}, {6, 16}, {5, 5}, {0, 2}, {1, 1}), false, ws);
}
