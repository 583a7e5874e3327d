#pragma once
// A Conv2d layer run with a chosen algorithm against the same layer run with the naive seven
// loops (chapter 01's picker tests, chapter 06's rectangular kernels, chapter 07's dilations).
//
// Tolerance: the fast paths add the same products in another order, so they differ from naive
// by float rounding (~1e-7 per addition relative to the largest partial sum); we measure the
// error relative to the largest reference value and accept 1e-5. Winograd also multiplies by
// its transform matrices, whose entries (up to 8 in F(4x4,3x3)'s) amplify rounding; for it we
// accept 1e-4, still far below the O(1) error of a wrong index.
#include <catch2/catch.hpp>

#include "convbook/conv/conv2d.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

namespace convbook::test {

/// The float tolerance of `algo` against naive (see above).
inline double conv_tolerance(ConvAlgo algo) {
  return algo == ConvAlgo::Winograd2 || algo == ConvAlgo::Winograd4 ? 1e-4 : 1e-5;
}

/// The kernels' description of a layer with these options on this input.
inline ConvGeometry geometry_of(const Conv2dOptions& o, const Shape& in) {
  ConvGeometry g;
  g.N = int(in[0]), g.C = int(in[1]), g.H = int(in[2]), g.W = int(in[3]);
  g.K = int(o.out_channels()), g.R = int(o.kernel_size().h), g.S = int(o.kernel_size().w);
  g.stride_h = int(o.stride().h), g.stride_w = int(o.stride().w);
  g.pad_h = int(o.padding().h), g.pad_w = int(o.padding().w);
  g.dil_h = int(o.dilation().h), g.dil_w = int(o.dilation().w);
  g.G = int(o.groups());
  return g;
}

//! [conv-vs-naive]
/// The same layer (same weights, random bias) run with `algo` and with Naive: y, dx, dweight
/// and dbias must agree, and the layer must report that it ran `algo` (Auto: whatever it chose).
inline void check_matches_naive(ConvAlgo algo, const Conv2dOptions& options, const Shape& input) {
  INFO("algorithm " << to_string(algo) << ", input " << to_string(input));
  manual_seed(11);
  Conv2d naive(options), fast(options);
  naive.set_algorithm(ConvAlgo::Naive);
  fast.set_algorithm(algo);
  fast.weight.value = naive.weight.value;
  if (options.bias()) {
    naive.bias.value = random_tensor(shape_of(naive.bias.value), 3);
    fast.bias.value = naive.bias.value;
  }
  const Tensor x = random_tensor(input, 1);
  const Tensor y_naive = naive.forward(x), y_fast = fast.forward(x);
  if (algo != ConvAlgo::Auto) REQUIRE(fast.chosen_algorithm() == algo);
  const double tolerance = conv_tolerance(fast.chosen_algorithm());
  REQUIRE(shape_of(y_fast) == shape_of(y_naive));
  CHECK(scaled_error(y_fast, y_naive) < tolerance);
  const Tensor dy = random_tensor(shape_of(y_naive), 2);
  const Tensor dx_naive = naive.backward(dy), dx_fast = fast.backward(dy);
  CHECK(scaled_error(dx_fast, dx_naive) < tolerance);
  CHECK(scaled_error(fast.weight.grad, naive.weight.grad) < tolerance);
  if (options.bias()) CHECK(scaled_error(fast.bias.grad, naive.bias.grad) < tolerance);
}
//! [conv-vs-naive]

}  // namespace convbook::test
