// Chapter 07: the receptive field of a stack of convolutions, by one backward pass through
// all-ones Conv2d layers, against the closed form RF = 1 + sum (k-1) d prod(strides before);
// and the gridding artifact of equal dilations as exact pixel counts.
//
// Everything here is a count of paths (sums of products of ones), exact in float up to 2^24,
// so the maps are compared exactly.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/07_dilated/receptive_field.hpp"
#include "convbook/error.hpp"

using namespace convbook;
using Catch::Matchers::Contains;

TEST_CASE("closed form of the receptive field", "[ch07][rf]") {
  CHECK(receptive_field_size(rf_stack(3, {1})) == 3);
  CHECK(receptive_field_size(rf_stack(3, {1, 1, 1})) == 7);      // 1 + 3 * 2
  CHECK(receptive_field_size(rf_stack(3, {2, 2, 2})) == 13);     // 1 + 2 * (2+2+2)
  CHECK(receptive_field_size(rf_stack(3, {1, 2, 5})) == 17);     // 1 + 2 * (1+2+5)
  CHECK(receptive_field_size(rf_stack(3, {1, 2, 4, 8})) == 31);  // exponential growth
  // strides multiply the step of every later layer: 1 + 2*1 + 2*1*2 + 2*1*4
  CHECK(receptive_field_size({{3, 2, 1}, {3, 2, 1}, {3, 1, 1}}) == 15);
  CHECK(receptive_field_size({{5, 1, 1}}) == 5);
  CHECK(receptive_field_size({{7, 2, 1}, {3, 1, 2}}) == 1 + 6 + 2 * 2 * 2);
}

TEST_CASE("the backward pass measures the closed form", "[ch07][rf]") {
  const std::vector<std::vector<RFLayer>> stacks = {
      rf_stack(3, {1}),
      rf_stack(3, {1, 1, 1}),
      rf_stack(3, {2, 2, 2}),
      rf_stack(3, {1, 2, 5}),
      rf_stack(3, {1, 2, 3}),
      rf_stack(3, {1, 2, 4, 8}),
      rf_stack(3, {3, 3}),
      rf_stack(5, {1, 3}),
      {{3, 2, 1}, {3, 1, 2}, {3, 1, 1}},
      {{3, 2, 1}, {3, 2, 1}, {3, 1, 1}},
      {{5, 2, 2}, {3, 1, 3}},
  };
  for (const auto& s : stacks) {
    INFO(to_string(s));
    const std::size_t rf = receptive_field_size(s);
    const Tensor map = receptive_field_map(s, rf + 16);
    const RFMeasure m = measure_receptive_field(map);
    CHECK(m.extent == rf);
  }
}

TEST_CASE("one dilated layer sees a k x k grid with gaps of d - 1", "[ch07][rf]") {
  for (std::size_t d : {1, 2, 3, 4}) {
    INFO("dilation " << d);
    const Tensor map = receptive_field_map(rf_stack(3, {d}), 15);  // centre 7
    for (std::size_t r = 0; r < 15; ++r) {
      for (std::size_t c = 0; c < 15; ++c) {
        const auto on = [&](std::size_t i) { return i + d == 7 || i == 7 || i == 7 + d; };
        CHECK(map(0, 0, r, c) == ((on(r) && on(c)) ? 1 : 0));
      }
    }
  }
}

TEST_CASE("gridding: equal dilations leave holes, hybrid dilations do not", "[ch07][rf]") {
  // (2,2,2): every tap offset is even, so only pixels at even distance from the centre are
  // reached: 7 x 7 = 49 of the 13 x 13 box, 120 holes.
  const RFMeasure grid = measure_receptive_field(receptive_field_map(rf_stack(3, {2, 2, 2}), 21));
  CHECK(grid.extent == 13);
  CHECK(grid.reached == 49);
  CHECK(grid.holes == 120);
  const Tensor g = receptive_field_map(rf_stack(3, {2, 2, 2}), 21);
  for (std::size_t r = 4; r <= 16; ++r) {
    for (std::size_t c = 4; c <= 16; ++c) {
      CHECK((g(0, 0, r, c) != 0) == (r % 2 == 0 && c % 2 == 0));  // centre 10: even offsets
    }
  }
  // (1,2,5): offsets -8..8 are all sums of a in {-1,0,1}, 2b, 5c: the full 17 x 17 box.
  const RFMeasure hdc = measure_receptive_field(receptive_field_map(rf_stack(3, {1, 2, 5}), 21));
  CHECK(hdc.extent == 17);
  CHECK(hdc.reached == 289);
  CHECK(hdc.holes == 0);
  // (1,2,3) too (the sawtooth of Wang et al.), and (1,1,1) trivially
  CHECK(measure_receptive_field(receptive_field_map(rf_stack(3, {1, 2, 3}), 21)).holes == 0);
  CHECK(measure_receptive_field(receptive_field_map(rf_stack(3, {1, 1, 1}), 21)).holes == 0);
  // a common factor always grids: (2,4,8) reaches only even offsets
  const RFMeasure even = measure_receptive_field(receptive_field_map(rf_stack(3, {2, 4, 8}), 35));
  CHECK(even.extent == 29);
  CHECK(even.reached == 15 * 15);
}

TEST_CASE("the centre pixel's path count is the number of ways to sum to zero", "[ch07][rf]") {
  // Three 3x3 layers of ones: in 1-D, the ways to pick a, b, c in {-1,0,1} with a+b+c = 0 is 7
  // (d = 1, 1, 1), so 7^2 = 49 in 2-D; with d (1,2,5) only a=b=c=0 works: 1.
  const Tensor dense = receptive_field_map(rf_stack(3, {1, 1, 1}), 11);
  CHECK(dense(0, 0, 5, 5) == 49);
  const Tensor hdc = receptive_field_map(rf_stack(3, {1, 2, 5}), 21);
  CHECK(hdc(0, 0, 10, 10) == 1);
}

TEST_CASE("receptive-field errors name the bad value", "[ch07][rf]") {
  CHECK_THROWS_WITH(receptive_field_size({}), Contains("empty stack"));
  CHECK_THROWS_WITH(receptive_field_size({{3, 1, 0}}),
                    Contains("layer 0") && Contains("dilation=0") && Contains("expected all >= 1"));
  CHECK_THROWS_WITH(receptive_field_size({{3, 1, 1}, {0, 1, 1}}),
                    Contains("layer 1") && Contains("kernel=0"));
  // an empty input: the first Conv2d refuses it (its 3x3 kernel is larger than 0 + 2 padding)
  CHECK_THROWS_AS(receptive_field_map(rf_stack(3, {1}), 0), Error);
}
