// Checks chapter 13's exercises against the framework itself: Module::num_parameters of the
// library's Shake-Shake networks, shifted_subsample (the shortcut's two paths) and its
// backward, and the FLOPs the library's Conv2d and Linear layers count in a forward.
#include "support/check.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <vector>

#include "chapters/13_shake_shake/shake_shake.hpp"
#include "chapters/13_shake_shake/shake_shake_net.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/layers/linear.hpp"
#include "exercise.hpp"
#include "support/exercise_check.hpp"

using namespace convbook;

namespace {

struct Net {
  std::size_t depth, width, classes;
};
const Net kNets[] = {{26, 32, 10}, {26, 96, 10}, {14, 16, 10}, {8, 4, 7}, {20, 10, 100}};

// The FLOPs of every Conv2d and Linear inside m, as counted in its last forward.
double conv_and_fc_flops(Module& m) {
  double total = 0;
  if (dynamic_cast<Conv2d*>(&m) != nullptr || dynamic_cast<Linear*>(&m) != nullptr) {
    total += m.flops();
  }
  for (const auto& [name, child] : m.children()) total += conv_and_fc_flops(*child);
  return total;
}

}  // namespace

TEST_CASE("13.1 Shake-Shake's parameter count in closed form", "[exercise]") {
  for (const Net& n : kNets) {
    INFO("Shake-Shake-" << n.depth << " 2x" << n.width << "d, " << n.classes << " classes");
    CHECK(ex13::shake_shake_parameters(n.depth, n.width, n.classes) ==
          shake_shake_cifar(n.depth, n.width, {}, n.classes)->num_parameters());
  }
}

TEST_CASE("13.2 the shortcut's two paths, forward and backward", "[exercise]") {
  struct Case {
    std::size_t N, C, H, W, stride;
  };
  for (const Case& c : {Case{2, 3, 7, 5, 2}, Case{1, 2, 4, 4, 1}, Case{2, 2, 9, 6, 3}}) {
    INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " W=" << c.W << " stride=" << c.stride);
    const std::vector<float> x = exercise::random_vector(c.N * c.C * c.H * c.W, 1);
    const Tensor xt = exercise::as_tensor(x, {c.N, c.C, c.H, c.W});
    const Tensor a = shifted_subsample(xt, c.stride, 0), b = shifted_subsample(xt, c.stride, 1);
    const Tensor y = concat_channels({&a, &b});
    CHECK(exercise::allclose_ratio(ex13::two_path_forward(x, c.N, c.C, c.H, c.W, c.stride), y) <=
          1.0);
    const std::vector<float> dy = exercise::random_vector(y.size(), 2);
    const std::vector<Tensor> d = split_channels(exercise::as_tensor(dy, shape_of(y)), {c.C, c.C});
    Tensor dx = shifted_subsample_backward(d[0], shape_of(xt), c.stride, 0);
    dx += shifted_subsample_backward(d[1], shape_of(xt), c.stride, 1);
    CHECK(exercise::allclose_ratio(ex13::two_path_backward(dy, c.N, c.C, c.H, c.W, c.stride),
                                   dx) <= 1.0);
  }
}

TEST_CASE("13.3 Shake-Shake's FLOPs per image in closed form", "[exercise]") {
  for (const Net& n : kNets) {
    if (n.width > 32) continue;  // 2x96d: 9 times the work of 2x32d, nothing new to check
    INFO("Shake-Shake-" << n.depth << " 2x" << n.width << "d, " << n.classes << " classes");
    auto net = shake_shake_cifar(n.depth, n.width, {}, n.classes);
    net->eval();
    net->forward(exercise::as_tensor(exercise::random_vector(3 * 32 * 32, 3), {1, 3, 32, 32}));
    const double library = conv_and_fc_flops(*net);
    CHECK(ex13::shake_shake_conv_flops(n.depth, n.width, n.classes) == Approx(library));
  }
}
