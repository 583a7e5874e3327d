#pragma once
// The double-precision gradient check of a block, as chapters 03, 06 and 10 run it: every
// BatchNorm's gamma and beta randomized (so no affine term hides a wrongly routed gradient),
// then dx and every trainable parameter's gradient against central differences of
// L = sum(y * g), each measured on its own tensor's scale (check.hpp's scaled_gradcheck).
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "support/check.hpp"

namespace convbook::test {

/// Checks `block` on a N(0, 1) input of shape `input`: worst scaled error of dx and of the
/// parameter gradients below `tolerance`, finite differences with step `eps`; `reseed` runs
/// before every forward (re-seed the generator there to give dropout the same mask each time).
/// Meant for the *_f64 test programs (Scalar = double).
inline void check_block_gradients(Module& block, const Shape& input, double eps = 1e-5,
                                  double tolerance = 1e-7,
                                  const std::function<void()>& reseed = [] {}) {
  randomize_batchnorms(block, 4);
  const GradCheckResult r = scaled_gradcheck(block, random_tensor(input, 5), eps, reseed);
  INFO(block.repr() << " on " << to_string(input) << ": dx " << r.input << ", worst parameter "
                    << r.worst_parameter << " " << r.parameters);
  CHECK(r.input < tolerance);
  CHECK(r.parameters < tolerance);
}

/// The same check parameter by parameter, for blocks where some parameters have a true gradient
/// of 0 (a bias or BatchNorm shift right before a training-mode BatchNorm, which subtracts it
/// again): for those named in `zero_gradient` both sides must be ~0 (numeric < 1e-8, analytic
/// < 1e-12), where a scaled error would only measure rounding noise against itself.
inline void check_block_gradients_with_zeros(Module& block, const Shape& input,
                                             const std::set<std::string>& zero_gradient,
                                             double eps = 1e-5, double tolerance = 1e-7) {
  randomize_batchnorms(block, 4);
  Tensor x = random_tensor(input, 5);
  const Tensor g = random_tensor(shape_of(block.forward(x)), 6);
  block.zero_grad();
  const Tensor dx = block.backward(g);
  auto loss = [&] { return weighted_output(block, x, g); };
  auto numeric = [&](Tensor& t) { return numeric_gradient(loss, t, eps); };
  INFO(block.repr() << " on " << to_string(input));
  const double dx_error = scaled_error(dx, numeric(x));
  INFO("dx scaled error " << dx_error);
  CHECK(dx_error < tolerance);
  block.visit_parameters([&](const std::string& name, Parameter& p) {
    if (p.is_buffer) return;
    const std::vector<double> num = numeric(p.value);
    INFO(name << " scaled error " << scaled_error(p.grad, num));
    if (zero_gradient.count(name) != 0) {
      for (std::size_t i = 0; i < num.size(); ++i) {
        CHECK(std::abs(num[i]) < 1e-8);
        CHECK(std::abs(double(p.grad.data()[i])) < 1e-12);
      }
    } else {
      CHECK(scaled_error(p.grad, num) < tolerance);
    }
  });
}

}  // namespace convbook::test
