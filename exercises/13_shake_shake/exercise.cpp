// Chapter 13 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=13`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex13 {

std::size_t shake_shake_parameters(std::size_t /*depth*/, std::size_t /*width*/,
                                   std::size_t /*num_classes*/) {
  throw convbook::Error("exercise 13.1 (shake_shake_parameters): not implemented yet");
}

std::vector<float> two_path_forward(const std::vector<float>& /*x*/, std::size_t /*N*/,
                                    std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                    std::size_t /*stride*/) {
  throw convbook::Error("exercise 13.2 (two_path_forward): not implemented yet");
}

std::vector<float> two_path_backward(const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                     std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                     std::size_t /*stride*/) {
  throw convbook::Error("exercise 13.2 (two_path_backward): not implemented yet");
}

double shake_shake_conv_flops(std::size_t /*depth*/, std::size_t /*width*/,
                              std::size_t /*num_classes*/) {
  throw convbook::Error("exercise 13.3 (shake_shake_conv_flops): not implemented yet");
}

}  // namespace convbook::ex13
