// Chapter 08 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=08`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex08 {

float bilinear(const std::vector<float>& /*plane*/, int /*H*/, int /*W*/, float /*h*/,
               float /*v*/) {
  throw Error("exercise 08.1a bilinear: not implemented yet");
}

std::vector<float> bilinear_position_grad(const std::vector<float>& /*plane*/, int /*H*/, int /*W*/,
                                          float /*h*/, float /*v*/) {
  throw Error("exercise 08.1b bilinear_position_grad: not implemented yet");
}

std::vector<float> deformable_column(const std::vector<float>& /*x*/, int /*C*/,
                                     const Window& /*win*/, const std::vector<float>& /*offset*/,
                                     const std::vector<float>& /*mask*/) {
  throw Error("exercise 08.2 deformable_column: not implemented yet");
}

std::vector<float> offset_gradient(const std::vector<float>& /*x*/, int /*C*/,
                                   const Window& /*win*/, const std::vector<float>& /*offset*/,
                                   const std::vector<float>& /*mask*/,
                                   const std::vector<float>& /*dcol*/) {
  throw Error("exercise 08.3 offset_gradient: not implemented yet");
}

}  // namespace convbook::ex08
