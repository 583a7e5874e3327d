// Chapter 04 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=04`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex04 {

Cost grouped_conv_cost(std::size_t /*C*/, std::size_t /*K*/, std::size_t /*R*/, std::size_t /*S*/,
                       std::size_t /*stride*/, std::size_t /*padding*/, std::size_t /*G*/,
                       bool /*bias*/, std::size_t /*H*/, std::size_t /*W*/) {
  throw convbook::Error("exercise 04.1 (grouped_conv_cost): not implemented yet");
}

std::vector<float> grouped_conv_as_slices(const std::vector<float>& /*x*/,
                                          const std::vector<float>& /*w*/, std::size_t /*N*/,
                                          std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                          std::size_t /*K*/, std::size_t /*R*/, std::size_t /*S*/,
                                          std::size_t /*pad*/, std::size_t /*G*/) {
  throw convbook::Error("exercise 04.2 (grouped_conv_as_slices): not implemented yet");
}

std::vector<float> block_diagonal_weight(const std::vector<float>& /*w*/, std::size_t /*K*/,
                                         std::size_t /*C*/, std::size_t /*R*/, std::size_t /*S*/,
                                         std::size_t /*G*/) {
  throw convbook::Error("exercise 04.3 (block_diagonal_weight): not implemented yet");
}

}  // namespace convbook::ex04
