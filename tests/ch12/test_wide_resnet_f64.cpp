// Chapter 12: the wide basic block's hand-written backward (pre-activation, gradient routed
// through the identity or the convdim shortcut, which takes the pre-activated o1) and a whole
// tiny WRN against central finite differences, in double.
//
// L = sum(y * g) through BatchNorms in training mode, as chapter 10 measures it
// (block_gradcheck.hpp: each gradient tensor at its own scale, bound 1e-7). Dropout draws a new
// mask each forward, which finite differences cannot follow; the check re-seeds the
// generator before every forward (block_gradcheck.hpp's reseed), so every evaluation of L uses the
// same mask and L is a fixed, piecewise-linear function of x again: the check then covers dropout's
// backward too.
#include <catch2/catch.hpp>
#include <cstdint>

#include "chapters/12_wide_resnet/wide_resnet.hpp"
#include "convbook/random.hpp"
#include "support/block_gradcheck.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

// Re-seeds the global generator (dropout's) before every forward: the same mask each time.
auto fixed_mask(std::uint64_t seed) {
  return [seed] { manual_seed(seed); };
}

}  // namespace

TEST_CASE("WideBasic backward matches finite differences, dropout off (double)",
          "[wide-resnet][gradcheck]") {
  manual_seed(121);
  WideBasic identity(4, 4);
  test::check_block_gradients(identity, {2, 4, 5, 6});
  WideBasic projection(3, 6, 2);  // convdim on the pre-activated input
  test::check_block_gradients(projection, {2, 3, 7, 5});
  WideBasic widen(3, 6, 1);  // channels change at stride 1: group0 of WRN-n-k, k > 1
  test::check_block_gradients(widen, {2, 3, 5, 4});
}

TEST_CASE("WideBasic backward matches finite differences with a fixed dropout mask (double)",
          "[wide-resnet][gradcheck][dropout]") {
  manual_seed(122);
  WideBasic identity(4, 4, 1, 0.3);
  test::check_block_gradients(identity, {2, 4, 5, 6}, 1e-5, 1e-7, fixed_mask(7));
  WideBasic projection(3, 6, 2, 0.5);
  test::check_block_gradients(projection, {2, 3, 7, 5}, 1e-5, 1e-7, fixed_mask(8));
}

TEST_CASE("A tiny WRN (10-2, base 2, dropout 0.3) backward matches finite differences (double)",
          "[wide-resnet][gradcheck][dropout]") {
  manual_seed(123);
  ModulePtr net = wide_resnet(10, 2, 0.3, 3, 2);
  test::check_block_gradients(*net, {3, 3, 8, 8}, 1e-5, 1e-7, fixed_mask(9));
}
