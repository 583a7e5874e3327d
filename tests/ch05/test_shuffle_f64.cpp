// Chapter 05: the hand-written backward passes against central finite differences, in double.
//
// The shuffle alone is linear (a copy), so its differences are exact up to rounding and the
// element-wise relative error (cs231n's rel_error) must be below 1e-9.
//
// The unit's loss L = sum(y * g) goes through three BatchNorms in training mode and two ReLUs.
// There, many true gradients are tiny (BN's input gradients sum to zero per channel), and the
// element-wise relative error of the smallest ones is finite-difference noise: it moves
// between 1e-7 and 4e-5 as the step changes from 3e-5 to 1e-4, for a correct backward. So for
// the unit we measure each gradient tensor at its own scale, max |analytic - numeric| /
// max |numeric| (check.hpp's scaled_error): a correct backward scores 1e-10 to 3e-8 here and we
// require < 1e-7; a missing path (the shortcut, the inverse shuffle, a concat cut at the wrong
// channel) scores 1e-2 to 1.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "chapters/05_shuffle/channel_shuffle.hpp"
#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "convbook/random.hpp"
#include "support/block_gradcheck.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

constexpr double kEps = 1e-5;
constexpr double kTolerance = 1e-7;

// Every gradient of a ShuffleUnit against central differences, each on its own scale.
// bn2's beta has a true gradient of zero in training mode: a constant added to a channel of
// bn2's output passes through the 1x1 conv3 (no padding, no bias) as a constant per channel,
// which bn3 subtracts again with its batch mean. Both sides must be ~0 there.
void check_unit(const ShuffleUnitOptions& options, const Shape& input) {
  manual_seed(21);
  ShuffleUnit unit(options);
  test::check_block_gradients_with_zeros(unit, input, {"bn2.bias"}, kEps, kTolerance);
}

}  // namespace

TEST_CASE("ChannelShuffle backward matches finite differences (double)", "[shuffle][gradcheck]") {
  for (bool naive : {false, true}) {
    ChannelShuffle shuffle(3);
    shuffle.set_naive(naive);
    const test::GradCheckResult r =
        test::gradcheck(shuffle, test::random_tensor({2, 6, 3, 5}, 1), 1e-3);
    INFO((naive ? "naive" : "planes") << ": dx error " << r.input);
    CHECK(r.input < 1e-9);  // L is linear in x: differences are exact up to rounding
  }
}

TEST_CASE("ShuffleUnit stride 1 (fig. 2b) backward matches finite differences (double)",
          "[unit][gradcheck]") {
  check_unit(ShuffleUnitOptions(12, 12).groups(3).mid_channels(6), {2, 12, 5, 7});
  check_unit(ShuffleUnitOptions(8, 8).groups(2).mid_channels(4).shuffle(false), {3, 8, 3, 4});
}

TEST_CASE("ShuffleUnit stride 2 (fig. 2c) backward matches finite differences (double)",
          "[unit][gradcheck]") {
  check_unit(ShuffleUnitOptions(6, 18).stride(2).groups(3).mid_channels(6), {2, 6, 7, 5});
  check_unit(ShuffleUnitOptions(4, 12).stride(2).groups(2).mid_channels(4).group_first_conv(false),
             {3, 4, 6, 6});
}
