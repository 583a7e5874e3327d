// Chapter 01, the implicit im2col: the packers that write the GEMM's B slivers straight from the
// image must produce, element by element, what explicit im2col followed by packing produces,
// and the convolution built on them must equal the naive one in double.
//
// The packers only copy, so the first comparisons are exact (==). The double comparison of
// whole convolutions adds the same products in a different order: the error, scaled by the
// largest reference value, is a few 1e-16 per addition; 1e-12 leaves room for sums of a
// thousand terms and catches any wrong index (errors of order 1).
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "convbook/conv/im2col.hpp"
#include "convbook/error.hpp"
#include "convbook/gemm/gemm.hpp"

using namespace convbook;

namespace {

ConvGeometry geometry(int N, int C, int K, int H, int W, int R, int S, int stride_h, int stride_w,
                      int pad_h, int pad_w, int dil_h, int dil_w, int G) {
  ConvGeometry g;
  g.N = N;
  g.C = C;
  g.K = K;
  g.H = H;
  g.W = W;
  g.R = R;
  g.S = S;
  g.stride_h = stride_h;
  g.stride_w = stride_w;
  g.pad_h = pad_h;
  g.pad_w = pad_w;
  g.dil_h = dil_h;
  g.dil_w = dil_w;
  g.G = G;
  return g;
}

std::string describe(const ConvGeometry& g) {
  return "C=" + std::to_string(g.C) + " K=" + std::to_string(g.K) + " " + std::to_string(g.H) +
         "x" + std::to_string(g.W) + " kernel " + std::to_string(g.R) + "x" + std::to_string(g.S) +
         " stride (" + std::to_string(g.stride_h) + ", " + std::to_string(g.stride_w) + ") pad (" +
         std::to_string(g.pad_h) + ", " + std::to_string(g.pad_w) + ") dil (" +
         std::to_string(g.dil_h) + ", " + std::to_string(g.dil_w) + ") G=" + std::to_string(g.G);
}

template <typename T>
std::vector<T> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<T> v(n);
  for (T& e : v) e = T(normal(rng));
  return v;
}

// The odd geometries every test below runs: strides 1 to 3 (and stride 1 in both directions,
// where dx is a convolution), padding 0 to 2, dilation 1 and 2, groups, non-square everything,
// and padding larger than dil*(S-1) (where, even at stride 1, dx goes through col2im).
std::vector<ConvGeometry> odd_geometries() {
  std::vector<ConvGeometry> gs;
  const int strides[][2] = {{1, 1}, {2, 1}, {1, 3}, {3, 2}};
  for (const auto& stride : strides) {
    for (int pad = 0; pad <= 2; ++pad) {
      for (int dil = 1; dil <= 2; ++dil) {
        for (int G : {1, 3}) {
          gs.push_back(geometry(2, 6, 9, 9, 7, 3, 2, stride[0], stride[1], pad, (pad + 1) % 3, dil,
                                3 - dil, G));
        }
      }
    }
  }
  gs.push_back(geometry(2, 9, 4, 11, 10, 5, 5, 1, 1, 2, 2, 1, 1, 1));  // Cg*R*S = 225 > KC
  gs.push_back(geometry(1, 2, 3, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1));    // 1x1
  gs.push_back(geometry(1, 3, 2, 5, 4, 5, 4, 1, 1, 0, 0, 1, 1, 1));    // one output
  // Output rows of 37 and 35 positions and 54 rows of col: the transposed packer's 16 x 16
  // register blocks (two per run, with leftovers in both directions), at stride 1 and 2.
  gs.push_back(geometry(1, 6, 4, 4, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1));
  gs.push_back(geometry(1, 6, 4, 5, 71, 3, 3, 1, 2, 1, 1, 1, 1, 1));
  return gs;
}

// Packs the whole of op(B) sliver by sliver, as gemm_packed_b's loop nest asks for it (depth
// blocks of kc, slivers of nr columns), and checks every entry against `expected(p, j)`.
template <typename T, typename Expected>
bool packs_like(const GemmBPacker<T>& packer, int K, int N, int kc_block, int nr,
                const Expected& expected) {
  std::vector<T> Bp(std::size_t(kc_block) * nr);
  for (int p0 = 0; p0 < K; p0 += kc_block) {
    const int kc = std::min(kc_block, K - p0);
    for (int j0 = 0; j0 < N; j0 += nr) {
      std::fill(Bp.begin(), Bp.end(), T(-99));  // anything not written shows up
      packer.pack(p0, kc, j0, nr, Bp.data());
      for (int p = 0; p < kc; ++p) {
        for (int c = 0; c < nr; ++c) {
          const T want = j0 + c < N ? expected(p0 + p, j0 + c) : T(0);
          if (Bp[std::size_t(p) * nr + c] != want) {
            INFO("p0=" << p0 << " kc=" << kc << " j0=" << j0 << " nr=" << nr << " entry (" << p
                       << ", " << c << ")");
            CHECK(Bp[std::size_t(p) * nr + c] == want);
            return false;
          }
        }
      }
    }
  }
  return true;
}

template <typename T>
void check_packers(const ConvGeometry& g) {
  const int Cg = g.C / g.G, CRS = Cg * g.R * g.S, PQ = g.P() * g.Q();
  for (int grp = 0; grp < g.G; ++grp) {
    const std::vector<T> x = random_vector<T>(std::size_t(Cg) * g.H * g.W, 3 + grp);
    std::vector<T> col(std::size_t(CRS) * PQ), padded(padded_image_size(g));
    im2col(g, x.data(), col.data());
    pad_image(g, x.data(), padded.data());
    const Im2colPacker<T> packer(g, padded.data());
    const Im2colTransposedPacker<T> packer_t(g, padded.data());
    const auto col_at = [&](int row, int j) { return col[std::size_t(row) * PQ + j]; };
    const auto col_t_at = [&](int j, int row) { return col[std::size_t(row) * PQ + j]; };
    // The GEMM's own sliver width, and odd widths and depths that start slivers mid-row.
    for (int nr : {gemm_packed_nr<T>(), 5, 1}) {
      for (int kc : {192, 7}) {
        CHECK(packs_like(packer, CRS, PQ, kc, nr, col_at));
        CHECK(packs_like(packer_t, PQ, CRS, kc, nr, col_t_at));
      }
    }
  }
}

// max |a - b| / max |b|, the error of a against the reference b relative to b's scale.
template <typename T>
double scaled_error(const std::vector<T>& a, const std::vector<T>& b) {
  double diff = 0, scale = 1e-300;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("pad_image writes the zero border and splits rows into stride phases", "[conv]") {
  // One 1x5 channel, pad 1, stride 2: padded columns v = 0..6 hold 0 a b c d e 0; phase 0 is
  // v = 0, 2, 4, 6 and phase 1 is v = 1, 3, 5 (plus one slot of rounding).
  const ConvGeometry g = geometry(1, 1, 1, 1, 5, 1, 3, 1, 2, 1, 1, 1, 1, 1);
  const std::vector<float> x = {1, 2, 3, 4, 5};
  std::vector<float> padded(padded_image_size(g), -1.0f);
  REQUIRE(padded.size() == 3 * 8);  // 3 padded rows of 2 phases x 4
  pad_image(g, x.data(), padded.data());
  const std::vector<float> middle(padded.begin() + 8, padded.begin() + 16);
  CHECK(middle == std::vector<float>{0, 2, 4, 0, 1, 3, 5, 0});
  for (int i = 0; i < 8; ++i) {
    CHECK(padded[i] == 0);       // the padding row above
    CHECK(padded[16 + i] == 0);  // and below
  }
}

TEST_CASE("The implicit im2col packers equal im2col + packing, element by element", "[conv]") {
  for (const ConvGeometry& g : odd_geometries()) {
    INFO(describe(g));
    check_packers<float>(g);
    check_packers<double>(g);
  }
}

TEST_CASE("gemm_packed_b with an im2col packer equals gemm_naive on the explicit columns",
          "[conv]") {
  // 9 channels x 5x5 taps = 225 rows of col, more than one depth block (KC = 192); 11x10
  // outputs = 110 columns, four slivers with a partial one; alpha and beta not 1.
  const ConvGeometry g = geometry(1, 9, 20, 11, 10, 5, 5, 1, 1, 2, 2, 1, 1, 1);
  const int CRS = 225, PQ = g.P() * g.Q(), M = 17;
  const std::vector<double> x = random_vector<double>(std::size_t(9) * 11 * 10, 1);
  const std::vector<double> A = random_vector<double>(std::size_t(M) * CRS, 2);
  const std::vector<double> C0 = random_vector<double>(std::size_t(M) * PQ, 3);
  std::vector<double> col(std::size_t(CRS) * PQ), padded(padded_image_size(g));
  im2col(g, x.data(), col.data());
  pad_image(g, x.data(), padded.data());
  std::vector<double> C_ref = C0, C = C0;
  gemm_naive(false, false, M, PQ, CRS, 0.5, A.data(), CRS, col.data(), PQ, -2.0, C_ref.data(), PQ);
  gemm_packed_b(false, M, PQ, CRS, 0.5, A.data(), CRS, Im2colPacker<double>(g, padded.data()), -2.0,
                C.data(), PQ);
  CHECK(scaled_error(C, C_ref) < 1e-13);

  // Bad sizes are refused by name, like gemm_packed's.
  CHECK_THROWS_WITH(gemm_packed_b(false, M, PQ, CRS, 1.0, A.data(), CRS - 1,
                                  Im2colPacker<double>(g, padded.data()), 0.0, C.data(), PQ),
                    Catch::Matchers::Contains("lda=224 must be >= 225"));
  CHECK_THROWS_WITH(gemm_packed_b(false, -1, PQ, CRS, 1.0, A.data(), CRS,
                                  Im2colPacker<double>(g, padded.data()), 0.0, C.data(), PQ),
                    Catch::Matchers::Contains("M=-1"));
}

TEST_CASE("im2col convolution equals naive in double to 1e-12, forward and backward", "[conv]") {
  for (const ConvGeometry& g : odd_geometries()) {
    if (g.P() < 1 || g.Q() < 1) continue;
    INFO(describe(g));
    const std::size_t x_size = std::size_t(g.N) * g.C * g.H * g.W;
    const std::size_t w_size = std::size_t(g.K) * (g.C / g.G) * g.R * g.S;
    const std::size_t y_size = std::size_t(g.N) * g.K * g.P() * g.Q();
    const std::vector<double> x = random_vector<double>(x_size, 1);
    const std::vector<double> w = random_vector<double>(w_size, 2);
    const std::vector<double> b = random_vector<double>(g.K, 3);
    const std::vector<double> dy = random_vector<double>(y_size, 4);
    std::vector<double> y_ref(y_size), y(y_size), workspace;
    conv2d_forward_naive(g, x.data(), w.data(), b.data(), y_ref.data());
    conv2d_forward_im2col(g, x.data(), w.data(), b.data(), y.data(), workspace);
    CHECK(scaled_error(y, y_ref) < 1e-12);

    // dw and db accumulate: both start from the same nonzero values.
    std::vector<double> dx_ref(x_size), dx(x_size, std::nan("")), dw_ref(w_size, 1.0),
        dw(w_size, 1.0), db_ref(g.K, 1.0), db(g.K, 1.0);
    conv2d_backward_naive(g, x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(),
                          db_ref.data());
    conv2d_backward_im2col(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(),
                           workspace);
    CHECK(scaled_error(dx, dx_ref) < 1e-12);
    CHECK(scaled_error(dw, dw_ref) < 1e-12);
    CHECK(scaled_error(db, db_ref) < 1e-12);
  }
}
