// Chapter 03 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=03`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex03 {

std::size_t output_side(std::size_t /*H*/, std::size_t /*kernel*/, std::size_t /*stride*/,
                        std::size_t /*padding*/) {
  throw convbook::Error("exercise 03.1 (output_side): not implemented yet");
}

std::size_t same_padding(std::size_t /*kernel*/) {
  throw convbook::Error("exercise 03.1 (same_padding): not implemented yet");
}

Cost inception_cost(std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                    const InceptionWidths& /*w*/, bool /*reductions*/) {
  throw convbook::Error("exercise 03.2 (inception_cost): not implemented yet");
}

std::vector<float> fused_pointwise_forward(const std::vector<float>& /*x*/, std::size_t /*N*/,
                                           std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                           const std::vector<std::vector<float>>& /*weights*/) {
  throw convbook::Error("exercise 03.3 (fused_pointwise_forward): not implemented yet");
}

std::vector<float> fused_pointwise_backward_input(
    const std::vector<float>& /*dy*/, std::size_t /*N*/, std::size_t /*C*/, std::size_t /*H*/,
    std::size_t /*W*/, const std::vector<std::vector<float>>& /*weights*/) {
  throw convbook::Error("exercise 03.3 (fused_pointwise_backward_input): not implemented yet");
}

}  // namespace convbook::ex03
