// Chapter 10: the residual blocks' hand-written backward passes against central finite
// differences, in double.
//
// L = sum(y * g) through two or three BatchNorms in training mode and the ReLUs. As in
// chapter 05, many true gradients are tiny (BN's input gradients sum to zero per channel), so
// each gradient tensor is measured at its own scale, max |analytic - numeric| / max |numeric|
// (check.hpp's scaled_error) and required to be < 1e-7, chapter 05's bound; a missing shortcut
// gradient or a path routed to the wrong input changes dx by a whole term.
// The option A shortcut alone is linear (a strided copy), so its central differences are exact
// up to rounding: the element-wise relative error (cs231n's rel_error) measures 3e-9 to 7e-9 and
// must be below 1e-7; a gradient sent to the wrong pixel or channel scores 1.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/random.hpp"
#include "support/block_gradcheck.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

TEST_CASE("BasicBlock backward matches finite differences (double)", "[resnet][gradcheck]") {
  manual_seed(31);
  BasicBlock identity(4, 4);
  test::check_block_gradients(identity, {2, 4, 5, 6});
  BasicBlock projection(3, 6, 2, projection_shortcut(3, 6, 2));
  test::check_block_gradients(projection, {2, 3, 7, 5});
}

TEST_CASE("BasicBlock with the option A shortcut matches finite differences (double)",
          "[resnet][gradcheck][option-a]") {
  manual_seed(32);
  BasicBlock block(4, 8, 2, std::make_unique<PadShortcut>(4, 8, 2));
  test::check_block_gradients(block, {2, 4, 7, 6});
}

TEST_CASE("Bottleneck backward matches finite differences (double)", "[resnet][gradcheck]") {
  manual_seed(33);
  Bottleneck projection(6, 2, 2, projection_shortcut(6, 8, 2));
  test::check_block_gradients(projection, {2, 6, 7, 5});
  // groups 2 and dilation 2 on the 3x3 (resnext / replace_stride_with_dilation), identity
  // shortcut: 8 = 2 planes x expansion 4.
  Bottleneck grouped(8, 2, 1, nullptr, 2, 64, 2);
  test::check_block_gradients(grouped, {2, 8, 6, 7});
}

TEST_CASE("PadShortcut backward is the exact transpose of its copy (double)",
          "[resnet][gradcheck][option-a]") {
  for (const auto& [C, K, stride] :
       std::vector<std::array<std::size_t, 3>>{{{2, 6, 2}}, {{3, 3, 1}}, {{3, 8, 3}}}) {
    PadShortcut pad(C, K, stride);
    const test::GradCheckResult r = test::gradcheck(pad, test::random_tensor({2, C, 7, 5}, 7));
    INFO(pad.repr() << " dx rel_error " << r.input);
    CHECK(r.input < 1e-7);
  }
}
