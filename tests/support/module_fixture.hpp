#pragma once
// A module against its PyTorch fixture (tests/tools/make_*.py): load the weights by state_dict
// name, then compare the forward output, dx, every parameter gradient and the BatchNorm running
// statistics after the one training forward.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "convbook/module.hpp"
#include "support/fixture.hpp"

namespace convbook::test {

/// Worst |ours - torch| / (atol + rtol |torch|) over all elements: <= 1 means torch.allclose.
inline double allclose_ratio(const Tensor& ours, const Tensor& torch, double rtol = 1e-3,
                             double atol = 1e-4) {
  REQUIRE(shape_of(ours) == shape_of(torch));
  double worst = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const double a = ours.data()[i], b = torch.data()[i];
    worst = std::max(worst, std::abs(a - b) / (atol + rtol * std::abs(b)));
  }
  return worst;
}

/// Loads f's weights into m by name, runs forward(input) and backward(dy) in training mode and
/// checks output, dx, grad.<name> and the running statistics with allclose_ratio(rtol, atol).
inline void check_module_fixture(Module& m, const Fixture& f, double rtol = 1e-3,
                                 double atol = 1e-4) {
  m.visit_parameters([&](const std::string& name, Parameter& p) {
    if (!p.is_buffer) p.value = f[name];  // the names are the contract with PyTorch
  });
  m.train();
  CHECK(allclose_ratio(m.forward(f["input"]), f["output"], rtol, atol) <= 1.0);
  m.zero_grad();
  CHECK(allclose_ratio(m.backward(f["dy"]), f["dx"], rtol, atol) <= 1.0);
  m.visit_parameters([&](const std::string& name, Parameter& p) {
    INFO(name);
    if (name.find("num_batches_tracked") != std::string::npos) return;
    if (p.is_buffer) {
      CHECK(allclose_ratio(p.value, f[name], rtol, atol) <= 1.0);  // after one forward
    } else {
      CHECK(allclose_ratio(p.grad, f["grad." + name], rtol, atol) <= 1.0);
    }
  });
}

}  // namespace convbook::test
