// Chapter 05: ChannelShuffle and ShuffleUnit against PyTorch, from fixtures written by
// tests/tools/make_ch05_fixtures.py (torch 1.13, computed in float64, stored as float32).
// The shuffle only copies, so it must match exactly. The unit computes in float32 through
// seven layers and three BatchNorms in training mode, whose 1/sigma amplifies rounding, so we
// accept |ours - torch| <= 1e-4 + 1e-3 |torch| (torch.allclose with rtol=1e-3, atol=1e-4);
// a wrong route (a missing path, the wrong permutation) misses by O(1).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "chapters/05_shuffle/channel_shuffle.hpp"
#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "support/fixture.hpp"

using namespace convbook;

namespace {

using test::Fixture;

bool exactly_equal(const Tensor& a, const Tensor& b) {
  return shape_of(a) == shape_of(b) && std::equal(a.begin(), a.end(), b.begin());
}

void check_unit_fixture(const std::string& file) {
  const Fixture f(file);
  ShuffleUnit unit(ShuffleUnitOptions(f.meta("in_channels"), f.meta("out_channels"))
                       .stride(f.meta("stride"))
                       .groups(f.meta("groups"))
                       .mid_channels(f.meta("mid_channels"))
                       .group_first_conv(f.meta("group_first_conv") != 0));
  INFO(file << ": " << unit.repr());
  test::check_against_pytorch(unit, f);  // loads the weights by state_dict name: the contract
}

}  // namespace

TEST_CASE("ChannelShuffle matches nn.ChannelShuffle and its gradient exactly", "[shuffle][torch]") {
  const Fixture f("ch05_shuffle.safetensors");
  const Tensor x = f["input"];
  for (std::size_t G : {2, 3, 4, 6}) {
    INFO("groups " << G);
    const std::string g = "g" + std::to_string(G) + ".";
    for (bool naive : {false, true}) {
      ChannelShuffle shuffle(G);
      shuffle.set_naive(naive);
      CHECK(exactly_equal(shuffle.forward(x), f[g + "output"]));
      CHECK(exactly_equal(shuffle.backward(f[g + "dy"]), f[g + "dx"]));
    }
  }
}

TEST_CASE("ShuffleUnit matches PyTorch: output, dx, parameter gradients, running statistics",
          "[unit][torch]") {
  check_unit_fixture("ch05_unit_stride1.safetensors");
  check_unit_fixture("ch05_unit_stride2.safetensors");
  check_unit_fixture("ch05_unit_stride2_dense_first.safetensors");
}
