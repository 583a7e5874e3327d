#pragma once
// A PyTorch fixture (tests/fixtures/NAME.safetensors, written by tests/tools/make_*.py): its
// tensors by key, and the integers its metadata stores as text.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "convbook/io/safetensors.hpp"
#include "convbook/module.hpp"

namespace convbook::test {

struct Fixture {
  SafetensorsFile file;
  explicit Fixture(const std::string& name)
      : file(read_safetensors(std::string(CONVBOOK_FIXTURES_DIR) + "/" + name)) {}
  /// The tensor stored under `key`; the test fails, naming the key, when there is none.
  Tensor operator[](const std::string& key) const {
    const auto it = file.tensors.find(key);
    if (it == file.tensors.end()) FAIL("fixture has no tensor " << key);
    return to_tensor(it->second);
  }
  /// The first value of the tensor under `key` (a scalar saved as a one-element tensor).
  double scalar(const std::string& key) const { return file.tensors.at(key).data.at(0); }
  /// The metadata entry `key` as an integer.
  std::size_t meta(const std::string& key) const { return std::stoul(file.metadata.at(key)); }
  /// The metadata entry `key`, "a,b,c", as a list of integers.
  std::vector<std::size_t> list(const std::string& key) const {
    std::vector<std::size_t> v;
    std::stringstream ss(file.metadata.at(key));
    std::string item;
    while (std::getline(ss, item, ',')) v.push_back(std::stoul(item));
    return v;
  }
};

/// Worst |a - b| / (atol + rtol |b|) over all elements: <= 1 means torch.allclose(ours, torch).
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

/// Loads a module's trainable parameters from a fixture by state_dict name (the contract with
/// PyTorch), runs one forward (training mode) on f["input"] and one backward of f["dy"], and
/// checks, allclose with rtol 1e-3 and atol 1e-4, the output, dx, every parameter's gradient
/// (grad.<name>) and every buffer after the forward (BatchNorm's running statistics).
inline void check_module_matches_fixture(Module& m, const Fixture& f) {
  m.visit_parameters([&](const std::string& name, Parameter& p) {
    if (!p.is_buffer) p.value = f[name];
  });
  CHECK(allclose_ratio(m.forward(f["input"]), f["output"]) <= 1.0);
  m.zero_grad();
  CHECK(allclose_ratio(m.backward(f["dy"]), f["dx"]) <= 1.0);
  m.visit_parameters([&](const std::string& name, Parameter& p) {
    INFO(name);
    if (name.find("num_batches_tracked") != std::string::npos) return;
    if (p.is_buffer) {
      CHECK(allclose_ratio(p.value, f[name]) <= 1.0);  // running stats after one forward
    } else {
      CHECK(allclose_ratio(p.grad, f["grad." + name]) <= 1.0);
    }
  });
}

}  // namespace convbook::test
