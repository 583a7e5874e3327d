// Chapter 05 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=05`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex05 {

std::vector<std::size_t> shuffle_index_map(std::size_t /*C*/, std::size_t /*G*/) {
  throw convbook::Error("exercise 05.1 (shuffle_index_map): not implemented yet");
}

std::vector<std::size_t> inverse_permutation(const std::vector<std::size_t>& /*map*/) {
  throw convbook::Error("exercise 05.1 (inverse_permutation): not implemented yet");
}

std::vector<std::vector<float>> concat_backward(const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                                const std::vector<std::size_t>& /*channels*/,
                                                std::size_t /*H*/, std::size_t /*W*/) {
  throw convbook::Error("exercise 05.2 (concat_backward): not implemented yet");
}

Cost shuffle_unit_cost(std::size_t /*C*/, std::size_t /*K*/, std::size_t /*M*/, std::size_t /*G*/,
                       std::size_t /*stride*/, bool /*group_first_conv*/, std::size_t /*H*/,
                       std::size_t /*W*/) {
  throw convbook::Error("exercise 05.3 (shuffle_unit_cost): not implemented yet");
}

Cost resnet_bottleneck_cost(std::size_t /*C*/, std::size_t /*K*/, std::size_t /*M*/,
                            std::size_t /*stride*/, std::size_t /*H*/, std::size_t /*W*/) {
  throw convbook::Error("exercise 05.3 (resnet_bottleneck_cost): not implemented yet");
}

}  // namespace convbook::ex05
