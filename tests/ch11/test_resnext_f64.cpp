// Chapter 11 in double: each form's hand-written backward against central finite differences,
// and the equivalence of the three forms to rounding.
//
// Gradient checks as chapter 10's (tests/support/block_gradcheck.hpp): BN affine terms
// randomized, dx and every parameter gradient measured on its own scale, bound 1e-7. Form (a)
// routes dy unchanged into every path (ParallelSum) and form (b) cuts it per path
// (ParallelConcat): a path that got a share of dy instead of all of it, or dx summed over too
// few paths, misses by a whole term. Equivalence: in double the mapped blocks agree to ~1e-14;
// the bound is 1e-10.
#include <catch2/catch.hpp>

#include "chapters/11_resnext/resnext_forms.hpp"
#include "convbook/random.hpp"
#include "form_checks.hpp"
#include "support/block_gradcheck.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {
const ResNeXtBlockOptions kIdentity{4, 4, 3, 2, 1};  // 3 paths of 2, identity shortcut
const ResNeXtBlockOptions kStrided{5, 8, 2, 2, 2};   // 2 paths of 2, stride 2, projection
}  // namespace

TEST_CASE("form (a), paths summed, matches finite differences (double)", "[resnext][gradcheck]") {
  manual_seed(41);
  ResNeXtBlockA identity(kIdentity);
  test::check_block_gradients(identity, {2, 4, 5, 6});
  ResNeXtBlockA strided(kStrided);
  test::check_block_gradients(strided, {2, 5, 7, 5});
}

TEST_CASE("form (b), paths concatenated, matches finite differences (double)",
          "[resnext][gradcheck]") {
  manual_seed(42);
  ResNeXtBlockB identity(kIdentity);
  test::check_block_gradients(identity, {2, 4, 5, 6});
  ResNeXtBlockB strided(kStrided);
  test::check_block_gradients(strided, {2, 5, 7, 5});
}

TEST_CASE("form (c), grouped, matches finite differences (double)", "[resnext][gradcheck]") {
  manual_seed(43);
  test::check_block_gradients(*resnext_bottleneck(kIdentity), {2, 4, 5, 6});
  test::check_block_gradients(*resnext_bottleneck(kStrided), {2, 5, 7, 5});
}

TEST_CASE("the three forms are the same function to rounding (double)", "[resnext][forms]") {
  for (const auto& o : {kIdentity, kStrided, ResNeXtBlockOptions{8, 8, 4, 3, 1}}) {
    test::check_form_equivalence<ResNeXtBlockA>(o, 2, 6, 1e-10);
    test::check_form_equivalence<ResNeXtBlockB>(o, 2, 6, 1e-10);
  }
}
