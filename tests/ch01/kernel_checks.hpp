// Shared by the reference checks of chapter 01's fast kernels (direct_checks.hpp,
// grouped_checks.hpp): random data and the comparison of one fast kernel with the seven-loop
// reference. The including file defines, inside an anonymous namespace and before including
// this, the scalar type `T` and the tolerance `kTolerance` it accepts.
using test::scaled_error;

std::vector<T> random_vector(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<T> v(n);
  for (T& e : v) e = T(rng.normal());
  return v;
}

/// Runs naive and a fast kernel (forward(g, x, w, b, y, ws), backward(g, x, w, dy, dx, dw, db,
/// ws)) on the same random x, w, b, dy and checks y, dx, dw and db agree. The fast outputs start
/// as NaN (y, dx: must be overwritten everywhere) and dw, db start at the same non-zero values
/// for both (they must be accumulated into, not overwritten); then each gradient alone (the
/// others nullptr) must give the same values. The workspace is shared across calls, as a layer
/// would reuse it.
template <typename Forward, typename Backward>
void check_kernel_matches_naive(Forward forward, Backward backward, const ConvGeometry& g,
                                bool with_bias, std::vector<T>& ws) {
  const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W;
  const std::size_t w_size = std::size_t(g.K) * (g.C / g.G) * g.R * g.S;
  const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
  const std::vector<T> x = random_vector(x_size, 1), w = random_vector(w_size, 2),
                       b = random_vector(g.K, 3), dy = random_vector(y_size, 4);
  const T* bias = with_bias ? b.data() : nullptr;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  T* const none = nullptr;

  std::vector<T> y_ref(y_size), y(y_size, nan);
  conv2d_forward_naive(g, x.data(), w.data(), bias, y_ref.data());
  forward(g, x.data(), w.data(), bias, y.data(), ws);
  CHECK(scaled_error(y, y_ref) < kTolerance);

  std::vector<T> dx_ref(x_size), dx(x_size, nan);
  std::vector<T> dw_ref = random_vector(w_size, 5), dw = dw_ref;
  std::vector<T> db_ref = random_vector(g.K, 6), db = db_ref;
  conv2d_backward_naive(g, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(),
                        db_ref.data());
  backward(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), ws);
  CHECK(scaled_error(dx, dx_ref) < kTolerance);
  CHECK(scaled_error(dw, dw_ref) < kTolerance);
  CHECK(scaled_error(db, db_ref) < kTolerance);

  // Each gradient alone (the others nullptr) gives the same values: nothing depends on them.
  std::vector<T> dx_only(x_size, nan), dw_only(w_size, T(0)), db_only(g.K, T(0));
  backward(g, x.data(), w.data(), dy.data(), dx_only.data(), none, none, ws);
  backward(g, x.data(), w.data(), dy.data(), none, dw_only.data(), none, ws);
  backward(g, x.data(), w.data(), dy.data(), none, none, db_only.data(), ws);
  CHECK(scaled_error(dx_only, dx_ref) < kTolerance);
  std::vector<T> dw_ref0(w_size, T(0)), db_ref0(g.K, T(0));
  conv2d_backward_naive<T>(g, x.data(), w.data(), dy.data(), nullptr, dw_ref0.data(),
                           db_ref0.data());
  CHECK(scaled_error(dw_only, dw_ref0) < kTolerance);
  CHECK(scaled_error(db_only, db_ref0) < kTolerance);
}
