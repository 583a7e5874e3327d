// Chapter 03: the hand-written backward passes against central finite differences, in double.
//
// The concatenation is linear (a copy), so its differences are exact up to rounding and the
// element-wise relative error (cs231n's rel_error) must be below 1e-9.
//
// The blocks' loss L = sum(y * g) goes through BatchNorms in training mode, where many true
// gradients are tiny (BN's input gradients sum to zero per channel) and the element-wise
// relative error of the smallest ones is finite-difference noise. As in chapter 05 we measure
// each gradient tensor at its own scale, max |analytic - numeric| / max |numeric| (check.hpp's
// scaled_error, through scaled_gradcheck), and require < 1e-7; the correct backward scores at
// most 2.3e-9 here.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "chapters/03_inception/inception.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/random.hpp"
#include "support/block_gradcheck.hpp"
#include "support/check.hpp"

using namespace convbook;

static_assert(sizeof(Scalar) == sizeof(double), "gradient checks run in the double build");

namespace {

// The concatenation as a module, so gradcheck can drive it: y = cat(x, 2 x, x[:, :1]).
// x reaches y three times, so dx must collect three parts of dy.
class ConcatThree : public Module {
 public:
  Tensor forward(const Tensor& x) override {
    C_ = x.shape()[1];
    const Tensor twice = 2.0 * x;
    const Tensor first = split_channels(x, {1, C_ - 1})[0];
    return concat_channels({&x, &twice, &first});
  }
  Tensor backward(const Tensor& dy) override {
    std::vector<Tensor> d = split_channels(dy, {C_, C_, 1});
    Tensor dx = d[0] + 2.0 * d[1];
    const Tensor zero_rest = zeros({dx.shape()[0], C_ - 1, dx.shape()[2], dx.shape()[3]});
    dx += concat_channels({&d[2], &zero_rest});  // the slice's backward: zeros elsewhere
    return dx;
  }
  std::string repr() const override { return "ConcatThree()"; }

 private:
  std::size_t C_ = 0;
};

}  // namespace

TEST_CASE("concat_channels / split_channels backward matches finite differences (double)",
          "[concat][gradcheck]") {
  ConcatThree m;
  const test::GradCheckResult r = test::gradcheck(m, test::random_tensor({2, 3, 4, 5}, 1), 1e-3);
  INFO("dx error " << r.input);
  CHECK(r.input < 1e-9);  // L is linear in x: differences are exact up to rounding
}

TEST_CASE("BasicConv2d backward matches finite differences (double)", "[inception][gradcheck]") {
  manual_seed(21);
  BasicConv2d conv(3, 4, 3);
  test::check_block_gradients(conv, {2, 3, 5, 4});
}

TEST_CASE("Inception (fig. 2b) backward matches finite differences (double)",
          "[inception][gradcheck]") {
  manual_seed(21);
  Inception block(
      InceptionOptions(5).ch1x1(2).ch3x3red(3).ch3x3(4).ch5x5red(2).ch5x5(3).pool_proj(2));
  test::check_block_gradients(block, {2, 5, 6, 5});
}

TEST_CASE("InceptionNaive (fig. 2a) backward matches finite differences (double)",
          "[inception][gradcheck]") {
  manual_seed(22);
  InceptionNaive block(InceptionOptions(4).ch1x1(2).ch3x3(3).ch5x5(2));
  test::check_block_gradients(block, {3, 4, 5, 7});
}
