#pragma once
// A PyTorch fixture (tests/fixtures/NAME.safetensors, written by tests/tools/make_*.py): its
// tensors by key, and the integers its metadata stores as text; and the whole comparison of a
// module with the PyTorch module the fixture was recorded from (check_against_pytorch).
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "convbook/io/safetensors.hpp"
#include "convbook/module.hpp"
#include "support/check.hpp"

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
  /// Whether the fixture holds a tensor under `key`.
  bool has(const std::string& key) const { return file.tensors.count(key) != 0; }
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

/// How close a float32 result must be to PyTorch's float64 one: torch.allclose's rtol and atol.
struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-4;
};

/// Checks module `m` against a fixture written by tests/tools/module_fixture.py from the PyTorch
/// twin of `m`, in training mode. The fixture holds the twin's state_dict under its names (the
/// names are the contract: every entry must load into a parameter or buffer of `m` of the same
/// size, and every one of `m`'s must be there), `input`, `output`, an upstream gradient `dy`,
/// and the gradients of sum(output * dy): `dx` and `grad.NAME` per parameter; `after.NAME`
/// holds each buffer after the forward (BatchNorm's running statistics, updated once).
/// num_batches_tracked is not compared: convbook's BatchNorm does not count batches.
inline void check_against_pytorch(Module& m, const Fixture& f, Tolerance tol = {}) {
  const auto is_state = [](const std::string& key) {
    return key != "input" && key != "output" && key != "dy" && key != "dx" &&
           key.rfind("grad.", 0) != 0 && key.rfind("after.", 0) != 0;
  };
  const auto skipped = [](const std::string& name) {
    return name.find("num_batches_tracked") != std::string::npos;
  };
  std::size_t loaded = 0, expected = 0;
  m.visit_parameters([&](const std::string& name, Parameter& p) {
    if (skipped(name)) return;
    INFO("state_dict entry " << name);
    const Tensor v = f[name];
    REQUIRE(v.size() == p.value.size());
    std::copy(v.begin(), v.end(), p.value.begin());
    ++loaded;
  });
  for (const auto& [key, t] : f.file.tensors) expected += is_state(key) && !skipped(key);
  CHECK(loaded == expected);  // no entry of the fixture left unused

  const auto close = [&](const Tensor& ours, const Tensor& torch) {
    return allclose_ratio(ours, torch, tol.rtol, tol.atol) <= 1.0;
  };
  const Tensor y = m.forward(f["input"]);
  CHECK(close(y, f["output"]));
  Tensor dy = zeros(shape_of(y));  // PyTorch's (N, K) logits are our (N, K, 1, 1)
  const Tensor dy_torch = f["dy"];
  REQUIRE(dy_torch.size() == dy.size());
  std::copy(dy_torch.begin(), dy_torch.end(), dy.begin());
  m.zero_grad();
  CHECK(close(m.backward(dy), f["dx"]));
  m.visit_parameters([&](const std::string& name, Parameter& p) {
    if (skipped(name)) return;
    INFO(name);
    CHECK(close(p.is_buffer ? p.value : p.grad, f[(p.is_buffer ? "after." : "grad.") + name]));
  });
}

}  // namespace convbook::test
