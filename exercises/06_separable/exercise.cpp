// Chapter 06 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=06`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex06 {

double rank1_energy_3x3(const std::vector<float>& /*k*/) {
  throw convbook::Error("exercise 06.1 (rank1_energy_3x3): not implemented yet");
}

void separable_factors(const std::vector<float>& /*k*/, std::vector<float>& /*v*/,
                       std::vector<float>& /*h*/) {
  throw convbook::Error("exercise 06.1 (separable_factors): not implemented yet");
}

Cost depthwise_separable_cost(std::size_t /*C*/, std::size_t /*K*/, std::size_t /*R*/,
                              std::size_t /*S*/, std::size_t /*stride*/, std::size_t /*H*/,
                              std::size_t /*W*/) {
  throw convbook::Error("exercise 06.2 (depthwise_separable_cost): not implemented yet");
}

Cost dense_conv_bn_cost(std::size_t /*C*/, std::size_t /*K*/, std::size_t /*R*/, std::size_t /*S*/,
                        std::size_t /*stride*/, std::size_t /*H*/, std::size_t /*W*/) {
  throw convbook::Error("exercise 06.2 (dense_conv_bn_cost): not implemented yet");
}

std::vector<float> flattened_dense_kernel(const std::vector<float>& /*lateral*/,
                                          const std::vector<float>& /*vertical*/,
                                          const std::vector<float>& /*horizontal*/,
                                          std::size_t /*K*/, std::size_t /*C*/, std::size_t /*R*/,
                                          std::size_t /*S*/) {
  throw convbook::Error("exercise 06.3 (flattened_dense_kernel): not implemented yet");
}

}  // namespace convbook::ex06
