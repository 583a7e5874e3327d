// Checks chapter 12's exercises against the framework itself: Module::num_parameters of the
// library's WRNs, the sum of Conv2d::flops() after a forward, and the variance of what the
// library's Dropout hands a BatchNorm in training mode, measured over 40 masks.
#include "support/check.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <tuple>
#include <vector>

#include "chapters/12_wide_resnet/wide_resnet.hpp"
#include "convbook/layers/dropout.hpp"
#include "convbook/random.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;

TEST_CASE("12.1 WRN-n-k's parameter count in closed form", "[exercise]") {
  for (const auto& [depth, width, classes] :
       std::vector<std::tuple<std::size_t, std::size_t, std::size_t>>{
           {10, 1, 10}, {16, 4, 10}, {16, 8, 100}, {22, 2, 7}, {28, 10, 10}, {40, 1, 3}}) {
    INFO("WRN-" << depth << "-" << width << ", " << classes << " classes");
    CHECK(ex12::wrn_parameters(depth, width, classes) ==
          wide_resnet(depth, width, 0.0, classes)->num_parameters());
  }
}

TEST_CASE("12.2 WRN-n-k's convolution FLOPs in closed form", "[exercise]") {
  for (const auto& [depth, width, side] :
       std::vector<std::tuple<std::size_t, std::size_t, std::size_t>>{
           {10, 1, 32}, {16, 4, 32}, {10, 2, 15}, {22, 1, 32}}) {
    INFO("WRN-" << depth << "-" << width << " on " << side << "x" << side);
    manual_seed(1);
    ModulePtr net = wide_resnet(depth, width);
    net->eval();
    net->forward(test::random_tensor({1, 3, side, side}, 2));
    double conv_flops = 0;
    const std::function<void(Module&)> visit = [&](Module& m) {
      if (auto* conv = dynamic_cast<Conv2d*>(&m)) conv_flops += conv->flops();
      for (const auto& [name, child] : m.children()) visit(*child);
    };
    visit(*net);
    CHECK(ex12::wrn_conv_flops(depth, width, side) == Approx(conv_flops).epsilon(1e-12));
  }
}

TEST_CASE("12.3 dropout's variance shift in front of a BatchNorm", "[exercise]") {
  // Channels with different means and spreads: ReLU(N(0, 1)) * scale + shift.
  const std::size_t N = 32, C = 4, H = 16, W = 16;
  const double scale[C] = {1.0, 0.5, 2.0, 1.0}, shift[C] = {0.0, 1.0, -0.5, 3.0};
  Rng rng(5);
  std::vector<float> x(N * C * H * W);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = i / (H * W) % C;
    x[i] = float(std::max(0.0, rng.normal()) * scale[c] + shift[c]);
  }
  const Tensor input = exercise::as_tensor(x, {N, C, H, W});
  for (const double p : {0.0, 0.2, 0.5}) {
    INFO("p = " << p);
    // Measured: Var over (N, H, W) and 40 masks of the library's Dropout output, over Var of x.
    manual_seed(6);
    Dropout dropout(p);
    std::vector<double> sum(C, 0), sum_sq(C, 0), x_sum(C, 0), x_sq(C, 0);
    for (int draw = 0; draw < 40; ++draw) {
      const Tensor z = dropout.forward(input);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const std::size_t c = i / (H * W) % C;
        sum[c] += z.data()[i];
        sum_sq[c] += double(z.data()[i]) * z.data()[i];
        x_sum[c] += x[i];
        x_sq[c] += double(x[i]) * x[i];
      }
    }
    const double count = 40.0 * N * H * W;
    const std::vector<double> yours = ex12::dropout_variance_ratio(x, N, C, H, W, p);
    REQUIRE(yours.size() == C);
    for (std::size_t c = 0; c < C; ++c) {
      const double var_train = sum_sq[c] / count - std::pow(sum[c] / count, 2);
      const double var_eval = x_sq[c] / count - std::pow(x_sum[c] / count, 2);
      INFO("channel " << c << ": measured " << var_train / var_eval << ", yours " << yours[c]);
      CHECK(yours[c] == Approx(var_train / var_eval).epsilon(0.02));
    }
  }
}
