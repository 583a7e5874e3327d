// Checks chapter 05's exercises against the framework itself: channel_shuffle_source and
// ChannelShuffle, the core split_channels, and ShuffleUnit / Conv2d / BatchNorm2d's own parameter
// and FLOP counts (what `convbook info` prints).
#include <catch2/catch.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "chapters/05_shuffle/channel_shuffle.hpp"
#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"

using namespace convbook;

TEST_CASE("05.1 the shuffle's index map and its inverse", "[exercise]") {
  for (std::size_t C : {1, 6, 12, 30, 240}) {
    for (std::size_t G = 1; G <= C; ++G) {
      if (C % G != 0) continue;
      INFO("C=" << C << " G=" << G);
      const std::vector<std::size_t> src = ex05::shuffle_index_map(C, G);
      REQUIRE(src.size() == C);
      for (std::size_t c = 0; c < C; ++c) REQUIRE(src[c] == channel_shuffle_source(c, C, G));
      const std::vector<std::size_t> inv = ex05::inverse_permutation(src);
      REQUIRE(inv.size() == C);
      for (std::size_t c = 0; c < C; ++c) REQUIRE(inv[src[c]] == c);
      // the inverse of the shuffle with G groups is the shuffle with C/G groups
      CHECK(inv == ex05::shuffle_index_map(C, C / G));
    }
  }
  // and the inverse of an arbitrary permutation
  const std::vector<std::size_t> p = {3, 0, 4, 1, 2};
  CHECK(ex05::inverse_permutation(p) == std::vector<std::size_t>{1, 3, 4, 0, 2});
}

TEST_CASE("05.2 the backward of a channel concatenation", "[exercise]") {
  const std::size_t N = 3, H = 4, W = 5;
  const std::vector<std::size_t> channels = {2, 5, 1};
  const std::size_t total = 8;
  Rng rng(1);
  Tensor dy = zeros({N, total, H, W});
  for (auto& v : dy) v = Scalar(rng.normal());
  const std::vector<float> flat(dy.begin(), dy.end());
  const auto parts = ex05::concat_backward(flat, N, channels, H, W);
  REQUIRE(parts.size() == 3);
  // the library's split (src/convbook/layers/concat.hpp) is the reference
  const std::vector<Tensor> library = split_channels(dy, channels);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(parts[i] == std::vector<float>(library[i].begin(), library[i].end()));
  }
}

namespace {
// A module's trainable parameters and FLOPs after a forward of one (C, H, W) image.
ex05::Cost measure(Module& m, std::size_t C, std::size_t H, std::size_t W) {
  m.eval();
  m.forward(zeros({1, C, H, W}));
  return {m.num_parameters(), m.flops()};
}
}  // namespace

TEST_CASE("05.3 the cost of a ShuffleNet unit, as convbook info counts it", "[exercise]") {
  struct Case {
    std::size_t C, K, M, G, stride;
    bool group_first;
    std::size_t H, W;
  };
  for (const Case& c : std::vector<Case>{{240, 240, 60, 3, 1, true, 8, 8},
                                         {24, 120, 30, 3, 2, false, 32, 32},
                                         {120, 240, 60, 3, 2, true, 16, 16},
                                         {16, 16, 8, 4, 1, true, 7, 5},
                                         {8, 20, 4, 2, 2, true, 9, 7}}) {
    INFO("C=" << c.C << " K=" << c.K << " M=" << c.M << " G=" << c.G << " stride=" << c.stride
              << " H=" << c.H << " W=" << c.W);
    manual_seed(1);
    ShuffleUnit unit(ShuffleUnitOptions(c.C, c.K)
                         .mid_channels(c.M)
                         .groups(c.G)
                         .stride(c.stride)
                         .group_first_conv(c.group_first));
    const ex05::Cost library = measure(unit, c.C, c.H, c.W);
    const ex05::Cost yours =
        ex05::shuffle_unit_cost(c.C, c.K, c.M, c.G, c.stride, c.group_first, c.H, c.W);
    CHECK(yours.params == library.params);
    CHECK(yours.flops == Approx(library.flops));
  }
}

TEST_CASE("05.3 the cost of a ResNet bottleneck, as convbook info counts it", "[exercise]") {
  struct Case {
    std::size_t C, K, M, stride, H, W;
  };
  for (const Case& c : std::vector<Case>{{240, 240, 60, 1, 8, 8},
                                         {120, 240, 60, 2, 16, 16},
                                         {16, 32, 8, 1, 7, 5},
                                         {8, 8, 4, 2, 9, 7}}) {
    INFO("C=" << c.C << " K=" << c.K << " M=" << c.M << " stride=" << c.stride);
    manual_seed(1);
    // torchvision's Bottleneck, built from the core layers (ResNet itself is chapter 10)
    Sequential main, shortcut;
    main.emplace<Conv2d>(Conv2dOptions(c.C, c.M, 1).bias(false));
    main.emplace<BatchNorm2d>(c.M);
    main.emplace<Conv2d>(Conv2dOptions(c.M, c.M, 3).stride(c.stride).padding(1).bias(false));
    main.emplace<BatchNorm2d>(c.M);
    main.emplace<Conv2d>(Conv2dOptions(c.M, c.K, 1).bias(false));
    main.emplace<BatchNorm2d>(c.K);
    ex05::Cost library = measure(main, c.C, c.H, c.W);
    if (c.stride != 1 || c.C != c.K) {
      shortcut.emplace<Conv2d>(Conv2dOptions(c.C, c.K, 1).stride(c.stride).bias(false));
      shortcut.emplace<BatchNorm2d>(c.K);
      const ex05::Cost s = measure(shortcut, c.C, c.H, c.W);
      library.params += s.params;
      library.flops += s.flops;
    }
    const ex05::Cost yours = ex05::resnet_bottleneck_cost(c.C, c.K, c.M, c.stride, c.H, c.W);
    CHECK(yours.params == library.params);
    CHECK(yours.flops == Approx(library.flops));
  }
}
