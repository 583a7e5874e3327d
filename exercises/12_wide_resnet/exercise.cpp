// Chapter 12 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=12`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex12 {

std::size_t wrn_parameters(std::size_t /*depth*/, std::size_t /*width*/,
                           std::size_t /*num_classes*/) {
  throw convbook::Error("exercise 12.1 (wrn_parameters): not implemented yet");
}

double wrn_conv_flops(std::size_t /*depth*/, std::size_t /*width*/, std::size_t /*side*/) {
  throw convbook::Error("exercise 12.2 (wrn_conv_flops): not implemented yet");
}

std::vector<double> dropout_variance_ratio(const std::vector<float>& /*x*/, std::size_t /*N*/,
                                           std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                           double /*p*/) {
  throw convbook::Error("exercise 12.3 (dropout_variance_ratio): not implemented yet");
}

}  // namespace convbook::ex12
