// Chapter 13 against PyTorch: the Shake-Shake block (identity shortcut; the two-path shortcut
// at stride 1 and at stride 2 on odd sides) and a tiny Shake-Shake-8 2x4d network, from
// committed fixtures written by tests/tools/make_ch13_fixtures.py. There, the mix is the usual
// torch.autograd.Function (alpha in forward, beta in backward) with fixed per-image alpha and
// beta, which the fixture's metadata holds as text; here they are handed to set_coefficients,
// and check_against_pytorch compares output, dx, every parameter gradient and the running
// statistics in training mode, computed by PyTorch in float64. Tolerance: chapter 10's
// torch.allclose(rtol=1e-3, atol=1e-4) for blocks with BatchNorms in float32.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/13_shake_shake/shake_shake.hpp"
#include "chapters/13_shake_shake/shake_shake_net.hpp"
#include "support/fixture.hpp"

using namespace convbook;

namespace {

// The metadata entry `key`, "0.25,0.5,...", as numbers.
std::vector<double> coefficients(const test::Fixture& f, const std::string& key) {
  INFO("metadata " << key);
  REQUIRE(f.file.metadata.count(key) == 1);
  std::vector<double> v;
  std::stringstream ss(f.file.metadata.at(key));
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stod(item));
  return v;
}

void check_block(const std::string& file) {
  const test::Fixture f(file);
  ShakeShakeBlock block(f.meta("in_channels"), f.meta("out_channels"), f.meta("stride"));
  block.set_coefficients(coefficients(f, "alpha"), coefficients(f, "beta"));
  INFO(file << ": " << block.repr());
  test::check_against_pytorch(block, f);
}

}  // namespace

TEST_CASE("The Shake-Shake block matches PyTorch with fixed per-image alpha and beta",
          "[shake][torch]") {
  check_block("ch13_block_identity.safetensors");
  check_block("ch13_block_widen.safetensors");
  check_block("ch13_block_stride2.safetensors");
}

TEST_CASE("A tiny Shake-Shake network matches PyTorch, block by block alpha and beta",
          "[shake][torch][net]") {
  const test::Fixture f("ch13_net_8_2x4d.safetensors");
  auto net = shake_shake_cifar(f.meta("depth"), f.meta("width"));
  std::size_t blocks = 0;
  for_each_shake_block(*net, [&](const std::string& name, ShakeShakeBlock& b) {
    b.set_coefficients(coefficients(f, "alpha." + name), coefficients(f, "beta." + name));
    ++blocks;
  });
  CHECK(blocks == 3);
  test::check_against_pytorch(*net, f);
}
