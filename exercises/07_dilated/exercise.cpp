// Chapter 07 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=07`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex07 {

std::size_t receptive_field(const std::vector<std::size_t>& /*kernels*/,
                            const std::vector<std::size_t>& /*strides*/,
                            const std::vector<std::size_t>& /*dilations*/) {
  throw Error("exercise 07.1 receptive_field: not implemented yet");
}

std::vector<bool> reached_offsets(std::size_t /*kernel*/,
                                  const std::vector<std::size_t>& /*dilations*/) {
  throw Error("exercise 07.2 reached_offsets: not implemented yet");
}

long im2col_source(std::size_t /*H*/, std::size_t /*W*/, std::size_t /*R*/, std::size_t /*S*/,
                   std::size_t /*stride*/, std::size_t /*pad*/, std::size_t /*dilation*/,
                   std::size_t /*row*/, std::size_t /*col*/) {
  throw Error("exercise 07.3 im2col_source: not implemented yet");
}

}  // namespace convbook::ex07
