// Shared by test_direct.cpp (float) and test_direct_f64.cpp (double): the reference checks of
// the kernels that skip im2col. The including file defines, inside an anonymous namespace and
// before including this, the scalar type `T` and the tolerance `kTolerance` it accepts, then
// includes this file in that same namespace. The test cases keep one name in both programs;
// ctest tells them apart by the program's prefix (ch01: / ch01_f64:).
enum class Kernel { Pointwise, Direct, Depthwise };

#include "kernel_checks.hpp"

void forward(Kernel kind, const ConvGeometry& g, const T* x, const T* w, const T* b, T* y,
             std::vector<T>& ws) {
  if (kind == Kernel::Pointwise) conv2d_forward_pointwise(g, x, w, b, y, ws);
  if (kind == Kernel::Direct) conv2d_forward_direct(g, x, w, b, y, ws);
  if (kind == Kernel::Depthwise) conv2d_forward_depthwise(g, x, w, b, y, ws);
}

void backward(Kernel kind, const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx, T* dw,
              T* db, std::vector<T>& ws) {
  if (kind == Kernel::Pointwise) conv2d_backward_pointwise(g, x, w, dy, dx, dw, db, ws);
  if (kind == Kernel::Direct) conv2d_backward_direct(g, x, w, dy, dx, dw, db, ws);
  if (kind == Kernel::Depthwise) conv2d_backward_depthwise(g, x, w, dy, dx, dw, db, ws);
}

/// Checks the fast kernel `kind` against naive (see check_kernel_matches_naive).
void check_matches_naive(Kernel kind, const ConvGeometry& g, bool with_bias, std::vector<T>& ws) {
  check_kernel_matches_naive(
      [kind](const ConvGeometry& gg, const T* x, const T* w, const T* b, T* y,
             std::vector<T>& wsp) { forward(kind, gg, x, w, b, y, wsp); },
      [kind](const ConvGeometry& gg, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db,
             std::vector<T>& wsp) { backward(kind, gg, x, w, dy, dx, dw, db, wsp); },
      g, with_bias, ws);
}

ConvGeometry geometry(int N, int C, int K, int G, std::pair<int, int> image,
                      std::pair<int, int> kernel, std::pair<int, int> stride,
                      std::pair<int, int> pad, std::pair<int, int> dilation) {
  ConvGeometry g;
  g.N = N, g.C = C, g.K = K, g.G = G;
  g.H = image.first, g.W = image.second;
  g.R = kernel.first, g.S = kernel.second;
  g.stride_h = stride.first, g.stride_w = stride.second;
  g.pad_h = pad.first, g.pad_w = pad.second;
  g.dil_h = dilation.first, g.dil_w = dilation.second;
  return g;
}

using Pair = std::pair<int, int>;
// 7x5 and 13x9: odd sizes; 1x1: a single pixel; 6x37: more than one vector of 16 outputs per
// row plus a partial one.
const std::vector<Pair> kImages = {{7, 5}, {1, 1}, {13, 9}, {6, 37}};
const std::vector<Pair> kStrides = {{1, 1}, {2, 2}, {3, 3}, {2, 1}, {1, 3}};
// Batch 1 without bias and batch 3 with: both batch sizes and both bias settings, half the runs.
const std::vector<std::pair<int, bool>> kBatchBias = {{1, false}, {3, true}};

/// Every image x stride x padding x dilation x (batch, bias) for one channel setup; returns how
/// many configurations had an output (the others are skipped: the kernel does not fit). The
/// callers check that count, so a grid that silently shrank would fail.
int check_grid(Kernel kind, int C, int K, int G, const std::vector<Pair>& images,
               const std::vector<Pair>& kernels, const std::vector<Pair>& strides,
               const std::vector<Pair>& pads, const std::vector<Pair>& dilations) {
  std::vector<T> ws;
  int checked = 0;
  for (const Pair& image : images)
    for (const Pair& kernel : kernels)
      for (const Pair& stride : strides)
        for (const Pair& pad : pads)
          for (const Pair& dilation : dilations)
            for (const auto& [N, bias] : kBatchBias) {
              const ConvGeometry g = geometry(N, C, K, G, image, kernel, stride, pad, dilation);
              if (g.P() <= 0 || g.Q() <= 0) continue;
              INFO("N" << N << " C" << C << " K" << K << " G" << G << " " << g.H << "x" << g.W
                       << " kernel " << g.R << "x" << g.S << " stride " << g.stride_h << ","
                       << g.stride_w << " pad " << g.pad_h << "," << g.pad_w << " dilation "
                       << g.dil_h << "," << g.dil_w << (bias ? " bias" : " no bias"));
              check_matches_naive(kind, g, bias, ws);
              ++checked;
            }
  return checked;
}

/// check_grid on kImages and kStrides.
int check_grid(Kernel kind, int C, int K, int G, const std::vector<Pair>& kernels,
               const std::vector<Pair>& pads, const std::vector<Pair>& dilations) {
  return check_grid(kind, C, K, G, kImages, kernels, kStrides, pads, dilations);
}

const std::vector<Pair> kPads = {{0, 0}, {1, 1}, {2, 2}, {0, 2}};
const std::vector<Pair> kDilations = {{1, 1}, {2, 2}};

TEST_CASE("pointwise (1x1 as GEMM) equals naive", "[conv][pointwise]") {
  const std::vector<Pair> one = {{1, 1}}, no_pad = {{0, 0}};
  // Dilation does not matter for a single tap; it is accepted and must change nothing.
  CHECK(check_grid(Kernel::Pointwise, 5, 7, 1, one, no_pad, kDilations) == 80);
  CHECK(check_grid(Kernel::Pointwise, 6, 9, 3, one, no_pad, {{1, 1}}) == 40);  // groups
  CHECK(check_grid(Kernel::Pointwise, 4, 4, 4, one, no_pad, {{1, 1}}) == 40);  // depthwise 1x1
}

TEST_CASE("direct (few input channels per group) equals naive", "[conv][direct]") {
  const std::vector<Pair> kernels = {{3, 3}, {2, 3}, {1, 1}};
  // RGB stem; 11 output channels: a block of 8 computed together, then 3 one by one
  CHECK(check_grid(Kernel::Direct, 3, 11, 1, kernels, kPads, kDilations) == 860);
  CHECK(check_grid(Kernel::Direct, 4, 18, 2, {{3, 3}}, kPads, {{2, 1}, {1, 2}}) == 260);  // 8+1
  CHECK(check_grid(Kernel::Direct, 8, 2, 2, {{5, 5}}, {{2, 2}}, {{1, 1}}) == 40);         // Cg = 4
}

TEST_CASE("depthwise equals naive", "[conv][depthwise]") {
  const std::vector<Pair> kernels = {{3, 3}, {5, 3}, {1, 1}};
  CHECK(check_grid(Kernel::Depthwise, 5, 5, 5, kernels, kPads, kDilations) == 790);
  CHECK(check_grid(Kernel::Depthwise, 1, 1, 1, {{3, 3}}, kPads, {{1, 2}}) == 130);  // one channel
}

TEST_CASE("depthwise equals naive on small planes with every padding", "[conv][depthwise]") {
  // At stride 1 with the padding that keeps the size (3x3 pad 1, 5x5 pad 2, 3x3 dilated 2 pad
  // 2, 1x1 pad 0, 3x5 pad (1, 2)) the planes are flat vectors read with lane masks: planes
  // smaller than a vector (1x1, 2x3), one not a whole number of vectors (7x9, 17x5, 3x27 at
  // period 27), exactly whole vectors (8x8, 4x32); every other padding and stride 2 take the
  // packed kernel.
  const std::vector<Pair> images = {{1, 1}, {2, 3}, {7, 9}, {8, 8}, {17, 5}, {4, 32}, {3, 27}};
  const std::vector<Pair> kernels = {{3, 3}, {5, 5}, {1, 1}, {3, 5}};
  std::vector<Pair> pads;
  for (int ph = 0; ph <= 2; ++ph)
    for (int pw = 0; pw <= 2; ++pw) pads.push_back({ph, pw});
  CHECK(check_grid(Kernel::Depthwise, 3, 3, 3, images, kernels, {{1, 1}, {2, 2}}, pads,
                   kDilations) == 1436);
  int same_size = 0;  // the configurations of the grid that the flat kernel computes
  for (const Pair& image : images)
    for (const Pair& kernel : kernels)
      for (const Pair& pad : pads)
        for (const Pair& dilation : kDilations) {
          const ConvGeometry g = geometry(1, 3, 3, 3, image, kernel, {1, 1}, pad, dilation);
          same_size += g.P() == g.H && g.Q() == g.W;
        }
  CHECK(same_size == 42);
}

TEST_CASE("depthwise 3x3 equals naive on planes held in registers", "[conv][depthwise]") {
  // 3x3, padding 1: planes of up to 4 vectors (64 floats, 32 doubles) whose rows fit in one
  // vector are moved by register shuffles. The images give 1 to 4 vectors, full (4x4, 2x16,
  // 8x8, 4x8) and partial (3x5, 7x7: one lane in the last), rows of 1 pixel and of a whole
  // vector (16 floats, 8 doubles), in float and in double; 9x9 and 2x17 stay on the masked
  // loads in both.
  const std::vector<Pair> images = {{1, 1}, {3, 5}, {4, 4}, {2, 16}, {5, 6}, {6, 8},
                                    {7, 7}, {8, 8}, {4, 8}, {3, 7},  {9, 9}, {2, 17}};
  const Pair one = {1, 1};
  const int lanes = int(xsimd::batch<T>::size);  // 16 floats, 8 doubles with AVX-512
  std::vector<T> ws;
  int in_registers = 0;
  for (const Pair& image : images) {
    for (const auto& [N, bias] : kBatchBias) {
      const ConvGeometry g = geometry(N, 6, 6, 6, image, {3, 3}, one, one, one);
      INFO(g.H << "x" << g.W << " N" << N << ", " << lanes << " lanes");
      const bool fits = g.W <= lanes && g.H * g.W <= 4 * lanes;
      CHECK(depthwise_in_registers<T>(g) == fits);
      in_registers += fits;
      check_matches_naive(Kernel::Depthwise, g, bias, ws);
    }
  }
  if (lanes == 16) CHECK(in_registers == 2 * 10);  // all but 9x9 and 2x17
  if (lanes == 8) CHECK(in_registers == 2 * 6);    // 1x1 3x5 4x4 5x6 4x8 3x7
  // large enough for every thread (a thread's share of planes ends inside an image)
  const ConvGeometry g = geometry(6, 40, 40, 40, {8, 8}, {3, 3}, one, one, one);
  CHECK(depthwise_in_registers<T>(g) == (lanes >= 16));
  check_matches_naive(Kernel::Depthwise, g, true, ws);
  // only 3x3 with padding 1, stride 1, dilation 1
  CHECK_FALSE(depthwise_in_registers<T>(geometry(1, 6, 6, 6, {4, 4}, {5, 5}, one, {2, 2}, one)));
  CHECK_FALSE(depthwise_in_registers<T>(geometry(1, 6, 6, 6, {4, 4}, {3, 3}, {2, 2}, one, one)));
  CHECK_FALSE(depthwise_in_registers<T>(geometry(1, 6, 6, 6, {4, 4}, {3, 3}, one, {2, 2}, {2, 2})));
  CHECK_FALSE(depthwise_in_registers<T>(geometry(1, 6, 6, 6, {4, 4}, {3, 3}, one, {0, 0}, one)));
  CHECK_FALSE(depthwise_in_registers<T>(geometry(1, 6, 6, 3, {4, 4}, {3, 3}, one, one, one)));
}

TEST_CASE("direct and depthwise equal naive on layers large enough to run in parallel",
          "[conv][direct][depthwise]") {
  // The grids above are small enough that the kernels run them on one thread (starting a team
  // costs more than the work); these layers have enough work for every thread.
  std::vector<T> ws;
  for (const Pair& stride : {Pair{1, 1}, Pair{2, 2}}) {
    INFO("stride " << stride.first);
    const Pair one = {1, 1};
    check_matches_naive(Kernel::Direct, geometry(4, 3, 16, 1, {20, 37}, {3, 3}, stride, one, one),
                        true, ws);
    check_matches_naive(Kernel::Depthwise,
                        geometry(6, 32, 32, 32, {20, 37}, {3, 3}, stride, one, one), true, ws);
  }
}
