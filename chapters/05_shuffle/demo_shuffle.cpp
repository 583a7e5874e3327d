// Chapter 05 demo: the channel shuffle on channel numbers, its inverse, and the two ShuffleNet
// units with their shapes and costs.
//
//   ./build/ch05_demo_shuffle
#include <cstdio>
#include <string>

#include "chapters/05_shuffle/channel_shuffle.hpp"
#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "convbook/random.hpp"

using namespace convbook;

namespace {

// A (1, C, 1, 1) tensor whose channel c holds the number c.
Tensor channel_numbers(std::size_t C) {
  Tensor t = zeros({1, C, 1, 1});
  for (std::size_t c = 0; c < C; ++c) t(0, c, 0, 0) = Scalar(c);
  return t;
}

std::string channels(const Tensor& t) {
  std::string s;
  for (std::size_t c = 0; c < t.shape()[1]; ++c) {
    s += (c ? " " : "") + std::to_string(int(t(0, c, 0, 0)));
  }
  return s;
}

}  // namespace

int main() {
  // With G groups before the shuffle, channels 0 .. 12/G - 1 come from group 0, the next
  // 12/G from group 1, and so on. After the shuffle, each run of 12/G channels (one group of
  // the next grouped layer) holds channels of every group.
  const Tensor x = channel_numbers(12);
  for (std::size_t G : {2, 3, 4}) {
    ChannelShuffle shuffle(G);
    const Tensor y = shuffle.forward(x);
    std::printf("%s: %s -> %s\n", shuffle.repr().c_str(), channels(x).c_str(), channels(y).c_str());
    std::printf("  backward (the inverse, = groups %zu): %s -> %s\n", 12 / G, channels(y).c_str(),
                channels(shuffle.backward(y)).c_str());
  }

  manual_seed(0);
  std::printf("\n");
  for (const ShuffleUnitOptions& o :
       {ShuffleUnitOptions(240, 240).groups(3), ShuffleUnitOptions(120, 240).stride(2).groups(3)}) {
    ShuffleUnit unit(o);
    const Tensor in = zeros({1, o.in_channels(), 16, 16});
    const Tensor out = unit.forward(in);
    std::printf("%s: %s -> %s, %zu parameters, %.2f MFLOPs\n", unit.repr().c_str(),
                to_string(shape_of(in)).c_str(), to_string(shape_of(out)).c_str(),
                unit.num_parameters(), unit.flops() / 1e6);
  }
  return 0;
}
