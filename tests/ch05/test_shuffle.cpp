// Chapter 05: the channel shuffle is a permutation and its backward the inverse permutation
// (checked exactly: no arithmetic happens, so not a single bit may change), the fast
// plane-copy version equals the naive one, the concat's backward cuts the gradient where the
// forward joined, the unit and the model have the shapes and names the chapter says, and bad
// configurations are refused with messages that say what was wrong.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "chapters/05_shuffle/channel_shuffle.hpp"
#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "chapters/05_shuffle/shufflenet.hpp"
#include "convbook/error.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

using namespace convbook;
using Catch::Matchers::Contains;
using test::same_values;

namespace {

// x[n][c][h][w] = its own flat index, so every output value names the input it came from.
Tensor iota(const Shape& s) {
  Tensor t = zeros(s);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = Scalar(i);
  return t;
}

}  // namespace

TEST_CASE("ChannelShuffle follows the paper's reshape-transpose-flatten", "[shuffle]") {
  // 6 channels in 2 groups: (0 1 2 | 3 4 5) read as a 2x3 matrix, transposed: 0 3 1 4 2 5.
  ChannelShuffle shuffle(2);
  const Tensor y = shuffle.forward(iota({1, 6, 1, 1}));
  CHECK(std::vector<Scalar>(y.begin(), y.end()) == std::vector<Scalar>{0, 3, 1, 4, 2, 5});
  // 6 channels in 3 groups: (0 1 | 2 3 | 4 5) -> 0 2 4 1 3 5
  ChannelShuffle shuffle3(3);
  const Tensor y3 = shuffle3.forward(iota({1, 6, 1, 1}));
  CHECK(std::vector<Scalar>(y3.begin(), y3.end()) == std::vector<Scalar>{0, 2, 4, 1, 3, 5});
  CHECK(shuffle3.repr() == "ChannelShuffle(groups=3)");
}

TEST_CASE("ChannelShuffle is a permutation of whole planes and its backward the inverse",
          "[shuffle]") {
  const Shape s = {2, 12, 3, 5};
  for (std::size_t G : {1, 2, 3, 4, 6, 12}) {
    INFO("groups " << G);
    ChannelShuffle shuffle(G);
    const Tensor x = iota(s);
    const Tensor y = shuffle.forward(x);
    // every input value appears exactly once
    std::set<Scalar> seen(y.begin(), y.end());
    CHECK(seen.size() == x.size());
    // each output channel is one whole input plane of the same image
    for (std::size_t n = 0; n < s[0]; ++n)
      for (std::size_t c = 0; c < s[1]; ++c) {
        const std::size_t src = channel_shuffle_source(c, s[1], G);
        for (std::size_t i = 0; i < s[2] * s[3]; ++i)
          REQUIRE(y(n, c, i / s[3], i % s[3]) == x(n, src, i / s[3], i % s[3]));
      }
    // backward(forward(x)) == x, bit for bit, and backward is the shuffle with C/G groups
    CHECK(same_values(shuffle.backward(y), x));
    ChannelShuffle inverse(s[1] / G);
    const Tensor dy = test::random_tensor(s, 7);
    CHECK(same_values(shuffle.backward(dy), inverse.forward(dy)));
  }
}

TEST_CASE("ChannelShuffle: the plane copies equal the naive loops, forward and backward",
          "[shuffle][naive]") {
  for (const Shape& s : std::vector<Shape>{{2, 12, 7, 5}, {3, 6, 1, 1}, {1, 30, 4, 3}}) {
    for (std::size_t G : {2, 3, 6}) {
      INFO(to_string(s) << " groups " << G);
      ChannelShuffle fast(G), naive(G);
      naive.set_naive(true);
      const Tensor x = test::random_tensor(s, 1), dy = test::random_tensor(s, 2);
      CHECK(same_values(fast.forward(x), naive.forward(x)));  // copies only: exactly equal
      CHECK(same_values(fast.backward(dy), naive.backward(dy)));
    }
  }
}

TEST_CASE("ChannelShuffle refuses groups that do not divide the channels", "[shuffle][errors]") {
  CHECK_THROWS_WITH(ChannelShuffle(0), Contains("groups=0"));
  ChannelShuffle shuffle(4);
  CHECK_THROWS_WITH(shuffle.forward(zeros({1, 6, 2, 2})),
                    Contains("groups=4 must divide the 6 channels"));
  CHECK_THROWS_WITH(shuffle.backward(zeros({1, 8, 2, 2})), Contains("backward got dy"));
  shuffle.forward(zeros({1, 8, 2, 2}));
  CHECK_THROWS_WITH(shuffle.backward(zeros({1, 8, 2, 3})), Contains("expected the last forward"));
}

TEST_CASE("ShuffleUnit has the paper's shapes and PyTorch-style parameter names", "[unit]") {
  manual_seed(1);
  SECTION("stride 1: residual sum, same shape") {
    ShuffleUnit unit(ShuffleUnitOptions(12, 12).groups(3));
    CHECK(unit.repr() == "ShuffleUnit(12, 12, stride=1, groups=3, mid_channels=3)");
    CHECK(shape_of(unit.forward(test::random_tensor({2, 12, 5, 7}, 1))) == Shape{2, 12, 5, 7});
    std::vector<std::string> names;
    unit.visit_parameters([&](const std::string& n, Parameter& p) {
      if (!p.is_buffer) names.push_back(n);
    });
    CHECK(names == std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias",
                                            "conv2.weight", "bn2.weight", "bn2.bias",
                                            "conv3.weight", "bn3.weight", "bn3.bias"});
  }
  SECTION("stride 2: half the size, pooled input and main path concatenated") {
    ShuffleUnit unit(ShuffleUnitOptions(24, 120).stride(2).groups(3).group_first_conv(false));
    CHECK(unit.conv1.weight.shape == std::vector<std::size_t>{30, 24, 1, 1});  // dense
    CHECK(unit.conv2.weight.shape == std::vector<std::size_t>{30, 1, 3, 3});   // depthwise
    CHECK(unit.conv3.weight.shape == std::vector<std::size_t>{96, 10, 1, 1});  // 120 - 24 out
    const Tensor x = test::random_tensor({2, 24, 9, 8}, 2);
    const Tensor y = unit.forward(x);
    REQUIRE(shape_of(y) == Shape{2, 120, 5, 4});
    // the first 24 channels are ReLU(avgpool(x)); the rest come from the main path
    AvgPool2d pool(3, 2, 1);
    const Tensor pooled = pool.forward(x);
    for (std::size_t i = 0; i < pooled.size(); ++i) {
      const std::size_t n = i / (24 * 20), rest = i % (24 * 20);
      REQUIRE(y(n, rest / 20, rest % 20 / 4, rest % 4) == std::max(Scalar(0), pooled.data()[i]));
    }
  }
}

TEST_CASE("ShuffleUnit's backward sums the two paths' gradients at the input", "[unit]") {
  // With conv3's weight zero (and bn3's beta at its initial 0) the main path outputs 0, so for
  // x > 0 the unit is y = ReLU(0 + x) = x, and dx must be dy: the shortcut's copy plus a main
  // path that sends back exactly nothing (its gradient goes through conv3's zero weight).
  manual_seed(2);
  ShuffleUnit unit(ShuffleUnitOptions(6, 6).groups(3).mid_channels(3));
  unit.conv3.weight.value.fill(0);
  Tensor x = test::random_tensor({2, 6, 4, 4}, 3);
  for (auto& v : x) v = std::abs(v) + Scalar(0.1);
  CHECK(test::rel_error(unit.forward(x), x) == 0);
  const Tensor dy = test::random_tensor({2, 6, 4, 4}, 4);
  CHECK(test::rel_error(unit.backward(dy), dy) < 1e-6);
  // conv3's weight still gets a gradient: the main path is alive, only its output was zero.
  double norm = 0;
  for (Scalar v : unit.conv3.weight.grad) norm += double(v) * v;
  CHECK(norm > 0);
}

TEST_CASE("ShuffleUnit refuses bad configurations with clear errors", "[unit][errors]") {
  auto make = [](const ShuffleUnitOptions& o) { ShuffleUnit unit(o); };
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(12, 12).groups(5)),
                    Contains("groups=5 must divide in_channels (conv1 is grouped)=12"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(12, 12).groups(3).mid_channels(4)),
                    Contains("groups=3 must divide the bottleneck mid_channels=4"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(24, 112).stride(2).groups(3).group_first_conv(false)),
                    Contains("groups=3 must divide the bottleneck mid_channels=28"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(8, 18).stride(2).groups(4).mid_channels(4)),
                    Contains("must divide the main path's output channels (out_channels - "
                             "in_channels)=10"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(12, 24).groups(3)),
                    Contains("in_channels=12 must equal out_channels=24"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(24, 24).stride(2).groups(3)),
                    Contains("must be larger than in_channels=24"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(12, 12).stride(3)), Contains("stride=3, expected 1"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(12, 12).groups(0)), Contains("groups=0"));
  CHECK_THROWS_WITH(make(ShuffleUnitOptions(2, 2).groups(1)),
                    Contains("bottleneck has 0 channels"));
  ShuffleUnit unit(ShuffleUnitOptions(12, 12).groups(3));
  CHECK_THROWS_WITH(unit.forward(zeros({1, 6, 4, 4})), Contains("has 6 channels, expected 12"));
  CHECK_THROWS_WITH(unit.backward(zeros({1, 12, 4, 4})), Contains("backward got dy"));
}

TEST_CASE("shufflenet_v1_cifar maps 32x32 images to logits", "[model]") {
  manual_seed(3);
  ModulePtr net = shufflenet_v1_cifar(10);
  const Tensor y = net->forward(test::random_tensor({2, 3, 32, 32}, 1));
  CHECK(shape_of(y) == Shape{2, 10, 1, 1});
  const Tensor dx = net->backward(test::random_tensor({2, 10, 1, 1}, 2));
  CHECK(shape_of(dx) == Shape{2, 3, 32, 32});
  std::set<std::string> names;
  net->visit_parameters([&](const std::string& n, Parameter&) { names.insert(n); });
  CHECK(names.count("stage2.0.conv1.weight") == 1);
  CHECK(names.count("stage4.1.bn3.running_var") == 1);
  CHECK(names.count("fc.weight") == 1);
  CHECK_THROWS_WITH(shufflenet_v1_cifar(0), Contains("num_classes=0"));
}
