// Shared by test_direct.cpp (float) and test_direct_f64.cpp (double): the reference checks of
// the kernels that skip im2col. The including file defines, inside an anonymous namespace and
// before including this, the scalar type `T` and the tolerance `kTolerance` it accepts, then
// includes this file in that same namespace. The test cases keep one name in both programs;
// ctest tells them apart by the program's prefix (ch01: / ch01_f64:).
enum class Kernel { Pointwise, Direct, Depthwise };

using test::scaled_error;

std::vector<T> random_vector(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<T> v(n);
  for (T& e : v) e = T(rng.normal());
  return v;
}

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

/// Runs naive and `kind` on the same random x, w, b, dy and checks y, dx, dw and db agree.
/// The fast outputs start as NaN (y, dx: must be overwritten everywhere) and dw, db start at
/// the same non-zero values for both (they must be accumulated into, not overwritten). The
/// workspace is shared across calls, as a layer would reuse it.
void check_matches_naive(Kernel kind, const ConvGeometry& g, bool with_bias, std::vector<T>& ws) {
  const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W;
  const std::size_t w_size = std::size_t(g.K) * (g.C / g.G) * g.R * g.S;
  const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
  const std::vector<T> x = random_vector(x_size, 1), w = random_vector(w_size, 2),
                       b = random_vector(g.K, 3), dy = random_vector(y_size, 4);
  const T* bias = with_bias ? b.data() : nullptr;
  const T nan = std::numeric_limits<T>::quiet_NaN();

  std::vector<T> y_ref(y_size), y(y_size, nan);
  conv2d_forward_naive(g, x.data(), w.data(), bias, y_ref.data());
  forward(kind, g, x.data(), w.data(), bias, y.data(), ws);
  CHECK(scaled_error(y, y_ref) < kTolerance);

  std::vector<T> dx_ref(x_size), dx(x_size, nan);
  std::vector<T> dw_ref = random_vector(w_size, 5), dw = dw_ref;
  std::vector<T> db_ref = random_vector(g.K, 6), db = db_ref;
  conv2d_backward_naive(g, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(),
                        db_ref.data());
  backward(kind, g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), ws);
  CHECK(scaled_error(dx, dx_ref) < kTolerance);
  CHECK(scaled_error(dw, dw_ref) < kTolerance);
  CHECK(scaled_error(db, db_ref) < kTolerance);

  // Each gradient alone (the others nullptr) gives the same values: nothing depends on them.
  std::vector<T> dx_only(x_size, nan), dw_only(w_size, T(0)), db_only(g.K, T(0));
  backward(kind, g, x.data(), w.data(), dy.data(), dx_only.data(), nullptr, nullptr, ws);
  backward(kind, g, x.data(), w.data(), dy.data(), nullptr, dw_only.data(), nullptr, ws);
  backward(kind, g, x.data(), w.data(), dy.data(), nullptr, nullptr, db_only.data(), ws);
  CHECK(scaled_error(dx_only, dx_ref) < kTolerance);
  std::vector<T> dw_ref0(w_size, T(0)), db_ref0(g.K, T(0));
  conv2d_backward_naive<T>(g, x.data(), w.data(), dy.data(), nullptr, dw_ref0.data(),
                           db_ref0.data());
  CHECK(scaled_error(dw_only, dw_ref0) < kTolerance);
  CHECK(scaled_error(db_only, db_ref0) < kTolerance);
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
