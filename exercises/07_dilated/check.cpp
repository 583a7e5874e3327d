// Checks chapter 07's exercises against the framework itself: receptive_field_size (the
// closed form), receptive_field_map (a backward pass through all-ones Conv2d layers) and the
// naive convolution of Conv2d.
#include "support/check.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "chapters/07_dilated/receptive_field.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"

using namespace convbook;

TEST_CASE("07.1 the receptive field of a stack by the closed form", "[exercise]") {
  Rng rng(1);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + std::size_t(rng.uniform() * 5);
    std::vector<std::size_t> k, s, d;
    std::vector<RFLayer> layers;
    for (std::size_t i = 0; i < n; ++i) {
      k.push_back(1 + std::size_t(rng.uniform() * 7));
      s.push_back(1 + std::size_t(rng.uniform() * 3));
      d.push_back(1 + std::size_t(rng.uniform() * 6));
      layers.push_back({k.back(), s.back(), d.back()});
    }
    INFO(to_string(layers));
    REQUIRE(ex07::receptive_field(k, s, d) == receptive_field_size(layers));
  }
  // and one measured by the backward pass
  const std::vector<RFLayer> layers = {{3, 2, 1}, {3, 1, 2}, {5, 1, 1}};
  CHECK(ex07::receptive_field({3, 3, 5}, {2, 1, 1}, {1, 2, 1}) ==
        measure_receptive_field(receptive_field_map(layers, 40)).extent);
}

TEST_CASE("07.2 the gridding pattern, in one dimension", "[exercise]") {
  const std::vector<std::vector<std::size_t>> stacks = {
      {1}, {2}, {1, 1, 1}, {2, 2, 2}, {1, 2, 5}, {1, 2, 3}, {2, 4, 8}, {3, 3}, {1, 3, 9}};
  for (std::size_t k : {3, 5}) {
    for (const auto& dil : stacks) {
      const std::vector<RFLayer> layers = rf_stack(k, dil);
      INFO(to_string(layers));
      const std::size_t rf = receptive_field_size(layers);
      const std::vector<bool> reached = ex07::reached_offsets(k, dil);
      REQUIRE(reached.size() == rf);
      // All-ones kernels are separable: the 2-D map is the outer product of the 1-D pattern.
      const std::size_t size = rf + 4, centre = size / 2, half = (rf - 1) / 2;
      const Tensor map = receptive_field_map(layers, size);
      for (std::size_t r = 0; r < rf; ++r) {
        for (std::size_t c = 0; c < rf; ++c) {
          REQUIRE((map(0, 0, centre - half + r, centre - half + c) != 0) ==
                  (reached[r] && reached[c]));
        }
      }
    }
  }
}

TEST_CASE("07.3 the index map of a dilated im2col", "[exercise]") {
  // A convolution written with your index map must equal Conv2d's naive kernel.
  struct Case {
    std::size_t H, W, R, S, stride, pad, dilation;
  };
  for (const Case& c : {Case{7, 9, 3, 3, 1, 2, 2}, Case{11, 8, 3, 2, 2, 3, 3},
                        Case{9, 9, 5, 3, 1, 0, 2}, Case{6, 10, 2, 3, 3, 1, 1}}) {
    INFO("H=" << c.H << " W=" << c.W << " R=" << c.R << " S=" << c.S << " stride=" << c.stride
              << " pad=" << c.pad << " dilation=" << c.dilation);
    const std::size_t C = 2, K = 3;
    manual_seed(2);
    Conv2d conv(Conv2dOptions(C, K, {c.R, c.S})
                    .stride(c.stride)
                    .padding(c.pad)
                    .dilation(c.dilation)
                    .bias(false));
    conv.set_algorithm(ConvAlgo::Naive);
    const Tensor x = test::random_tensor({1, C, c.H, c.W}, 3);
    const Tensor y = conv.forward(x);
    const std::size_t P = shape_of(y)[2], Q = shape_of(y)[3];
    for (std::size_t k = 0; k < K; ++k) {
      for (std::size_t col = 0; col < P * Q; ++col) {
        double sum = 0;
        for (std::size_t ch = 0; ch < C; ++ch) {
          for (std::size_t row = 0; row < c.R * c.S; ++row) {
            const long src =
                ex07::im2col_source(c.H, c.W, c.R, c.S, c.stride, c.pad, c.dilation, row, col);
            REQUIRE(src < long(c.H * c.W));
            if (src < 0) continue;
            sum += double(conv.weight.value(k, ch, row / c.S, row % c.S)) *
                   double(x(0, ch, std::size_t(src) / c.W, std::size_t(src) % c.W));
          }
        }
        REQUIRE(std::abs(sum - double(y(0, k, col / Q, col % Q))) < 1e-4);
      }
    }
  }
}
