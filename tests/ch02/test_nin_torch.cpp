// Chapter 02: the NiN block against PyTorch's nn.Sequential of the same layers, on the fixtures
// written by tests/tools/make_ch02_fixtures.py: forward output, dx, every parameter's gradient
// and BatchNorm's running statistics after one training forward.
//
// The fixtures were computed by PyTorch in float64 and stored in float32, so the difference is
// our float rounding alone; relative to the largest value of each tensor, 1e-5 is ample (a
// wrong routing of a gradient misses by order 1).
#include <catch2/catch.hpp>
#include <string>

#include "chapters/02_pointwise/nin.hpp"
#include "convbook/io/safetensors.hpp"
#include "support/check.hpp"

using namespace convbook;
using test::scaled_error;

namespace {

std::size_t meta(const SafetensorsFile& f, const std::string& key) {
  return std::stoul(f.metadata.at(key));
}

Tensor stored(const SafetensorsFile& f, const std::string& key) {
  const auto it = f.tensors.find(key);
  if (it == f.tensors.end()) FAIL("fixture has no tensor " << key);
  return to_tensor(it->second);
}

void check_against_pytorch(const std::string& name) {
  const std::string path = std::string(CONVBOOK_FIXTURES_DIR) + "/ch02_" + name + ".safetensors";
  const SafetensorsFile f = read_safetensors(path);
  INFO(path);
  NiNBlock block(NiNBlockOptions(meta(f, "in_channels"), meta(f, "out_channels"),
                                 {meta(f, "kernel_h"), meta(f, "kernel_w")})
                     .mid_channels(meta(f, "mid_channels"))
                     .stride(meta(f, "stride"))
                     .padding({meta(f, "pad_h"), meta(f, "pad_w")})
                     .batch_norm(meta(f, "batch_norm") == 1)
                     .final_activation(meta(f, "final_activation") == 1));
  // Same state_dict names as nn.Sequential: every parameter and buffer is found by its name.
  std::size_t loaded = 0;
  block.visit_parameters([&](const std::string& pname, Parameter& p) {
    if (pname.find("num_batches_tracked") != std::string::npos) return;
    INFO(pname);
    const Tensor v = stored(f, pname);
    REQUIRE(v.size() == p.value.size());
    std::copy(v.begin(), v.end(), p.value.begin());
    ++loaded;
  });
  std::size_t expected = 0;  // entries that are neither data nor gradients nor "after." buffers
  for (const auto& [key, t] : f.tensors) {
    if (key != "input" && key != "output" && key != "dy" && key != "dx" &&
        key.rfind("grad.", 0) != 0 && key.rfind("after.", 0) != 0)
      ++expected;
  }
  CHECK(loaded == expected);

  const Tensor y = block.forward(stored(f, "input"));
  const Tensor expected_y = stored(f, "output");
  REQUIRE(shape_of(y) == shape_of(expected_y));
  CHECK(scaled_error(y, expected_y) < 1e-5);

  block.zero_grad();
  const Tensor dx = block.backward(stored(f, "dy"));
  CHECK(scaled_error(dx, stored(f, "dx")) < 1e-5);
  block.visit_parameters([&](const std::string& pname, Parameter& p) {
    INFO(pname);
    if (pname.find("num_batches_tracked") != std::string::npos) return;
    if (p.is_buffer) {
      CHECK(scaled_error(p.value, stored(f, "after." + pname)) < 1e-5);
    } else {
      CHECK(scaled_error(p.grad, stored(f, "grad." + pname)) < 1e-5);
    }
  });
}

}  // namespace

TEST_CASE("NiNBlock matches PyTorch's nn.Sequential mlpconv, forward and backward",
          "[nin][torch]") {
  check_against_pytorch("nin_plain");  // Lin et al. 2014: conv-ReLU, 1x1-ReLU, 1x1-ReLU, stride 2
  check_against_pytorch("nin_bn");     // BatchNorm after every convolution, training mode
  check_against_pytorch("nin_head");   // a 3x2 kernel, the last 1x1 linear with a bias
}
