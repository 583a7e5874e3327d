// Chapter 01: Conv2d against PyTorch's nn.Conv2d on the fixtures written by
// tests/tools/make_conv_fixtures.py (forward output and the three gradients).
//
// The fixtures were computed by PyTorch in float64 and stored in float32, so the difference is
// our float rounding alone; measured relative to the largest value, 1e-5 is ample.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "convbook/conv/conv2d.hpp"
#include "convbook/io/safetensors.hpp"
#include "support/check.hpp"

using namespace convbook;

using test::scaled_error;

namespace {

std::size_t meta(const SafetensorsFile& f, const std::string& key) {
  return std::stoul(f.metadata.at(key));
}

void check_against_pytorch(const std::string& name, ConvAlgo algo) {
  const std::string path = std::string(CONVBOOK_FIXTURES_DIR) + "/conv_" + name + ".safetensors";
  const SafetensorsFile f = read_safetensors(path);
  const Conv2dOptions options = Conv2dOptions(meta(f, "in_channels"), meta(f, "out_channels"),
                                              {meta(f, "kernel_h"), meta(f, "kernel_w")})
                                    .stride({meta(f, "stride_h"), meta(f, "stride_w")})
                                    .padding({meta(f, "pad_h"), meta(f, "pad_w")})
                                    .dilation({meta(f, "dil_h"), meta(f, "dil_w")})
                                    .groups(meta(f, "groups"))
                                    .bias(meta(f, "bias") == 1);
  Conv2d conv(options);
  conv.set_algorithm(algo);
  INFO(path << (algo == ConvAlgo::Naive ? " (naive)" : " (im2col)"));
  CHECK(conv.repr() == f.metadata.at("repr"));

  conv.weight.value = to_tensor(f.tensors.at("weight"));
  if (options.bias()) conv.bias.value = to_tensor(f.tensors.at("bias"));
  const Tensor y = conv.forward(to_tensor(f.tensors.at("input")));
  const Tensor expected_y = to_tensor(f.tensors.at("output"));
  REQUIRE(shape_of(y) == shape_of(expected_y));
  CHECK(scaled_error(y, expected_y) < 1e-5);

  conv.zero_grad();
  const Tensor dx = conv.backward(to_tensor(f.tensors.at("dy")));
  CHECK(scaled_error(dx, to_tensor(f.tensors.at("dx"))) < 1e-5);
  CHECK(scaled_error(conv.weight.grad, to_tensor(f.tensors.at("dweight"))) < 1e-5);
  if (options.bias()) CHECK(scaled_error(conv.bias.grad, to_tensor(f.tensors.at("dbias"))) < 1e-5);
}

}  // namespace

TEST_CASE("Conv2d matches PyTorch's nn.Conv2d, forward and backward", "[conv][torch]") {
  for (const char* name :
       {"basic", "stride2", "rect", "dilation", "groups", "depthwise", "pointwise", "mixed"}) {
    check_against_pytorch(name, ConvAlgo::Naive);
    check_against_pytorch(name, ConvAlgo::Im2col);
  }
}
