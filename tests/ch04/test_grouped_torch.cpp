// Chapter 04: grouped_cnn against the same nn.Sequential in PyTorch (tests/tools/
// make_ch04_fixtures.py), with the same weights: forward output, dx, every parameter's gradient
// and BatchNorm's running statistics after one training forward. The parameters are found by
// their state_dict names, so this also checks that a PyTorch checkpoint maps 1:1.
//
// The fixture was computed in float64 and stored in float32; through 19 layers in float32 we
// accept an error of 1e-4 relative to the largest value of each tensor (worst measured 8e-6;
// a gradient routed to the wrong group misses by order 1).
#include <catch2/catch.hpp>
#include <string>

#include "chapters/04_grouped/grouped_models.hpp"
#include "convbook/io/safetensors.hpp"
#include "support/check.hpp"

using namespace convbook;
using test::scaled_error;

namespace {

Tensor stored(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.tensors.find(key);
  if (it == f.tensors.end()) FAIL("fixture has no tensor " << key);
  return to_tensor(it->second);
}

}  // namespace

TEST_CASE("grouped_cnn matches PyTorch's nn.Sequential, forward and backward",
          "[grouped][torch]") {
  const std::string path = std::string(CONVBOOK_FIXTURES_DIR) + "/ch04_grouped_cnn.safetensors";
  const SafetensorsFile f = read_safetensors(path);
  INFO(path);
  auto net = grouped_cnn(10, 8);
  std::size_t loaded = 0;
  net->visit_parameters([&](const std::string& pname, Parameter& p) {
    if (pname.find("num_batches_tracked") != std::string::npos) return;
    INFO(pname);
    const Tensor v = stored(f, pname);
    REQUIRE(v.size() == p.value.size());
    std::copy(v.begin(), v.end(), p.value.begin());
    ++loaded;
  });
  std::size_t expected = 0;
  for (const auto& [key, t] : f.tensors) {
    if (key != "input" && key != "output" && key != "dy" && key != "dx" &&
        key.rfind("grad.", 0) != 0 && key.rfind("after.", 0) != 0)
      ++expected;
  }
  CHECK(loaded == expected);

  const Tensor y = net->forward(stored(f, "input"));  // (2, 10, 1, 1); PyTorch's is (2, 10)
  CHECK(scaled_error(y, stored(f, "output")) < 1e-4);

  Tensor dy = zeros(shape_of(y));
  const Tensor dy_torch = stored(f, "dy");
  REQUIRE(dy_torch.size() == dy.size());
  std::copy(dy_torch.begin(), dy_torch.end(), dy.begin());
  net->zero_grad();
  const Tensor dx = net->backward(dy);
  CHECK(scaled_error(dx, stored(f, "dx")) < 1e-4);
  net->visit_parameters([&](const std::string& pname, Parameter& p) {
    INFO(pname);
    if (pname.find("num_batches_tracked") != std::string::npos) return;
    if (p.is_buffer) {
      CHECK(scaled_error(p.value, stored(f, "after." + pname)) < 1e-4);
    } else {
      CHECK(scaled_error(p.grad, stored(f, "grad." + pname)) < 1e-4);
    }
  });
}
