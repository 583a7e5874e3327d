// Checks chapter 04's exercises against the framework itself: Conv2d's own num_parameters()
// and flops(), and the output of a grouped Conv2d, on random data and odd sizes. Both sides
// compute in float in different orders, so we accept |yours - library| <= 1e-5 + 1e-4 |library|.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;
using convbook::exercise::allclose_ratio;
using convbook::exercise::as_tensor;
using convbook::exercise::random_vector;

namespace {

struct Case {
  std::size_t N, C, H, W, K, R, S, pad, G;
};

const std::vector<Case> kCases = {
    {1, 4, 5, 5, 4, 3, 3, 1, 2}, {2, 6, 7, 4, 9, 3, 3, 1, 3}, {1, 8, 6, 6, 8, 3, 3, 1, 8},
    {2, 4, 7, 7, 8, 5, 5, 2, 2}, {1, 6, 5, 6, 4, 3, 2, 0, 2}, {1, 3, 4, 4, 5, 3, 3, 1, 1},
};

}  // namespace

TEST_CASE("04.1 grouped_conv_cost agrees with Conv2d's own count", "[exercise]") {
  struct CostCase {
    std::size_t C, K, R, S, stride, pad, G;
    bool bias;
    std::size_t H, W;
  };
  for (const CostCase& c : {CostCase{128, 128, 3, 3, 1, 1, 32, false, 16, 16},
                            CostCase{96, 256, 5, 5, 1, 2, 2, true, 27, 27},  // AlexNet conv2
                            CostCase{96, 256, 5, 5, 1, 2, 1, true, 27, 27},
                            CostCase{12, 6, 3, 2, 2, 1, 3, true, 9, 7}}) {
    Conv2d conv(Conv2dOptions(c.C, c.K, {c.R, c.S})
                    .stride(c.stride)
                    .padding(c.pad)
                    .groups(c.G)
                    .bias(c.bias));
    conv.forward(zeros({1, c.C, c.H, c.W}));
    INFO(conv.repr() << " on " << c.H << "x" << c.W);
    const ex04::Cost yours =
        ex04::grouped_conv_cost(c.C, c.K, c.R, c.S, c.stride, c.pad, c.G, c.bias, c.H, c.W);
    CHECK(yours.params == conv.num_parameters());
    CHECK(yours.flops == Approx(conv.flops()).epsilon(1e-12));
  }
}

TEST_CASE("04.2 grouped_conv_as_slices agrees with a grouped Conv2d", "[exercise]") {
  std::uint64_t seed = 1;
  for (const Case& c : kCases) {
    INFO("N=" << c.N << " C=" << c.C << " " << c.H << "x" << c.W << " K=" << c.K << " " << c.R
              << "x" << c.S << " pad=" << c.pad << " G=" << c.G);
    const std::vector<float> x = random_vector(c.N * c.C * c.H * c.W, seed++);
    const std::vector<float> w = random_vector(c.K * (c.C / c.G) * c.R * c.S, seed++);
    Conv2d conv(Conv2dOptions(c.C, c.K, {c.R, c.S}).padding(c.pad).groups(c.G).bias(false));
    conv.weight.value = as_tensor(w, {c.K, c.C / c.G, c.R, c.S});
    const Tensor expected = conv.forward(as_tensor(x, {c.N, c.C, c.H, c.W}));
    CHECK(allclose_ratio(
              ex04::grouped_conv_as_slices(x, w, c.N, c.C, c.H, c.W, c.K, c.R, c.S, c.pad, c.G),
              expected) <= 1);
  }
}

TEST_CASE("04.3 a dense Conv2d with block_diagonal_weight equals the grouped one", "[exercise]") {
  std::uint64_t seed = 40;
  for (const Case& c : kCases) {
    INFO("C=" << c.C << " K=" << c.K << " " << c.R << "x" << c.S << " G=" << c.G);
    const std::vector<float> x = random_vector(c.N * c.C * c.H * c.W, seed++);
    const std::vector<float> w = random_vector(c.K * (c.C / c.G) * c.R * c.S, seed++);
    Conv2d grouped(Conv2dOptions(c.C, c.K, {c.R, c.S}).padding(c.pad).groups(c.G).bias(false));
    grouped.weight.value = as_tensor(w, {c.K, c.C / c.G, c.R, c.S});
    const std::vector<float> dense_w = ex04::block_diagonal_weight(w, c.K, c.C, c.R, c.S, c.G);
    REQUIRE(dense_w.size() == c.K * c.C * c.R * c.S);
    // exactly K (C/G) R S non-zeros can come from w; the rest must be zero
    std::size_t nonzero = 0;
    for (float v : dense_w) nonzero += v != 0.0f;
    CHECK(nonzero <= c.K * (c.C / c.G) * c.R * c.S);
    Conv2d dense(Conv2dOptions(c.C, c.K, {c.R, c.S}).padding(c.pad).bias(false));
    dense.weight.value = as_tensor(dense_w, {c.K, c.C, c.R, c.S});
    const Tensor input = as_tensor(x, {c.N, c.C, c.H, c.W});
    const Tensor expected = grouped.forward(input);
    const Tensor yours = dense.forward(input);
    CHECK(allclose_ratio(std::vector<float>(yours.begin(), yours.end()), expected) <= 1);
  }
}
