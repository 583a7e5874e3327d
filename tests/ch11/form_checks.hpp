#pragma once
// The equivalence of the three ResNeXt forms (Xie et al. 2017, fig. 3), shared by the float
// test (test_resnext.cpp) and the double one (test_resnext_f64.cpp): form (c) built with random
// weights and BatchNorm affine terms, its weights mapped into (a) or (b) by grouped_to_paths,
// the same x and dy through both in training mode. The two must agree on y, on dx, on every
// parameter's gradient (compared with (c)'s gradients mapped by the same function into a third
// block) and on the BatchNorm running statistics after the forward.
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "chapters/11_resnext/resnext_forms.hpp"
#include "convbook/random.hpp"
#include "support/check.hpp"

namespace convbook::test {

/// Every parameter and buffer of `m` by name.
inline std::vector<std::pair<std::string, Parameter*>> named_parameters(Module& m) {
  std::vector<std::pair<std::string, Parameter*>> all;
  m.visit_parameters([&](const std::string& name, Parameter& p) { all.emplace_back(name, &p); });
  return all;
}

/// Checks that form `Paths` (ResNeXtBlockA or ResNeXtBlockB) computes what form (c) computes
/// after grouped_to_paths: worst scaled error of y, dx, each gradient and each buffer below
/// `tolerance`.
template <typename Paths>
void check_form_equivalence(const ResNeXtBlockOptions& o, std::size_t batch, std::size_t side,
                            double tolerance) {
  manual_seed(7);
  auto c = resnext_bottleneck(o);
  randomize_batchnorms(*c, 3);
  Paths paths(o), expected(o);
  grouped_to_paths(*c, paths);  // the weights (and the BN buffers before the forward)
  INFO(paths.repr() << " vs " << c->repr());
  const Tensor x = random_tensor({batch, o.in_channels, side, side + 1}, 5);
  const Tensor y = c->forward(x);
  const Tensor dy = random_tensor(shape_of(y), 6);
  c->zero_grad();
  const Tensor dx = c->backward(dy);
  paths.zero_grad();
  CHECK(scaled_error(paths.forward(x), y) < tolerance);
  CHECK(scaled_error(paths.backward(dy), dx) < tolerance);
  // (c)'s gradients and updated running statistics, laid out as the paths' own.
  grouped_to_paths(*c, expected);
  const auto ours = named_parameters(paths), theirs = named_parameters(expected);
  REQUIRE(ours.size() == theirs.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const auto& [name, p] = ours[i];
    if (name.find("num_batches_tracked") != std::string::npos) continue;
    INFO(name);
    REQUIRE(name == theirs[i].first);
    CHECK(scaled_error(p->is_buffer ? p->value : p->grad,
                       p->is_buffer ? theirs[i].second->value : theirs[i].second->grad) <
          tolerance);
  }
  // Eval mode: the running statistics, updated once by both, normalize the same way.
  c->eval();
  paths.eval();
  CHECK(scaled_error(paths.forward(x), c->forward(x)) < tolerance);
}

}  // namespace convbook::test
