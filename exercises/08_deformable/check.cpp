// Checks chapter 08's exercises against the framework itself: bilinear_sample and
// bilinear_sample_position_grad, deformable_im2col and deformable_col2im_coord
// (chapters/08_deformable/deform_conv.hpp), on random positions that include pixels, the
// border rows and columns, and samples fully outside the image.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "chapters/08_deformable/deform_conv.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using exercise::allclose_ratio;
using exercise::random_vector;

namespace {

// Positions in [-2, H + 1): a quarter of them on integer rows/columns (the kinks).
float random_position(Rng& rng, int size) {
  const double t = -2 + (size + 3) * rng.uniform();
  return float(rng.uniform() < 0.25 ? std::floor(t) : t);
}

DeformGeometry geometry(const ex08::Window& win, int C) {
  DeformGeometry g;
  g.C = C, g.K = 1, g.H = win.H, g.W = win.W, g.R = win.R, g.S = win.S;
  g.stride_h = g.stride_w = win.stride;
  g.pad_h = g.pad_w = win.pad;
  g.dil_h = g.dil_w = win.dilation;
  return g;
}

const std::vector<ex08::Window> windows = {{7, 6, 3, 3, 1, 1, 1, 0, 0},
                                           {7, 6, 3, 3, 1, 1, 1, 3, 5},
                                           {9, 8, 3, 3, 2, 2, 2, 2, 1},
                                           {6, 7, 2, 3, 1, 0, 1, 4, 2}};

}  // namespace

TEST_CASE("08.1 bilinear sampling and its gradient with respect to the position", "[exercise]") {
  const int H = 5, W = 4;
  const std::vector<float> plane = random_vector(H * W, 1);
  Rng rng(2);
  for (int trial = 0; trial < 500; ++trial) {
    const float h = random_position(rng, H), v = random_position(rng, W);
    INFO("h " << h << " v " << v);
    REQUIRE(ex08::bilinear(plane, H, W, h, v) ==
            Approx(bilinear_sample(plane.data(), H, W, h, v)).margin(1e-5));
    float dh, dv;
    bilinear_sample_position_grad(plane.data(), H, W, h, v, &dh, &dv);
    const std::vector<float> yours = ex08::bilinear_position_grad(plane, H, W, h, v);
    REQUIRE(yours.size() == 2);
    REQUIRE(allclose_ratio(yours, std::vector<float>{dh, dv}) <= 1.0);
  }
}

TEST_CASE("08.2 one column of the deformable im2col", "[exercise]") {
  const int C = 3;
  for (const ex08::Window& win : windows) {
    const DeformGeometry g = geometry(win, C);
    const int PQ = g.P() * g.Q(), RS = g.R * g.S, pq = win.p * g.Q() + win.q;
    const std::vector<float> x = random_vector(std::size_t(C * g.H * g.W), 3);
    std::vector<float> offset = random_vector(std::size_t(2 * RS * PQ), 4);
    for (float& o : offset) o *= 2;
    std::vector<float> mask = random_vector(std::size_t(RS * PQ), 5);
    std::vector<float> col(std::size_t(C * RS * PQ));
    deformable_im2col(g, x.data(), offset.data(), mask.data(), col.data());
    std::vector<float> off_pq, mask_pq, expected;
    for (int k = 0; k < RS; ++k) {
      off_pq.push_back(offset[std::size_t(2 * k * PQ + pq)]);
      off_pq.push_back(offset[std::size_t((2 * k + 1) * PQ + pq)]);
      mask_pq.push_back(mask[std::size_t(k * PQ + pq)]);
    }
    for (int row = 0; row < C * RS; ++row) expected.push_back(col[std::size_t(row * PQ + pq)]);
    INFO("window at (" << win.p << ", " << win.q << ") of " << win.H << "x" << win.W);
    REQUIRE(allclose_ratio(ex08::deformable_column(x, C, win, off_pq, mask_pq), expected) <= 1.0);
  }
}

TEST_CASE("08.3 the gradient with respect to the offsets of one output", "[exercise]") {
  const int C = 4;
  for (const ex08::Window& win : windows) {
    const DeformGeometry g = geometry(win, C);
    const int PQ = g.P() * g.Q(), RS = g.R * g.S, pq = win.p * g.Q() + win.q;
    const std::vector<float> x = random_vector(std::size_t(C * g.H * g.W), 6);
    std::vector<float> offset = random_vector(std::size_t(2 * RS * PQ), 7);
    for (float& o : offset) o *= 2;
    const std::vector<float> mask = random_vector(std::size_t(RS * PQ), 8);
    const std::vector<float> dcol = random_vector(std::size_t(C * RS * PQ), 9);
    std::vector<float> doffset(offset.size());
    deformable_col2im_coord(g, x.data(), offset.data(), mask.data(), dcol.data(), doffset.data(),
                            static_cast<float*>(nullptr));
    std::vector<float> off_pq, mask_pq, dcol_pq, expected;
    for (int k = 0; k < RS; ++k) {
      off_pq.push_back(offset[std::size_t(2 * k * PQ + pq)]);
      off_pq.push_back(offset[std::size_t((2 * k + 1) * PQ + pq)]);
      mask_pq.push_back(mask[std::size_t(k * PQ + pq)]);
      expected.push_back(doffset[std::size_t(2 * k * PQ + pq)]);
      expected.push_back(doffset[std::size_t((2 * k + 1) * PQ + pq)]);
    }
    for (int row = 0; row < C * RS; ++row) dcol_pq.push_back(dcol[std::size_t(row * PQ + pq)]);
    INFO("window at (" << win.p << ", " << win.q << ") of " << win.H << "x" << win.W);
    REQUIRE(allclose_ratio(ex08::offset_gradient(x, C, win, off_pq, mask_pq, dcol_pq), expected) <=
            1.0);
  }
}
