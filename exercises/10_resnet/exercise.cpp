// Chapter 10 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=10`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex10 {

std::size_t resnet_parameters(bool /*bottleneck*/, const std::array<std::size_t, 4>& /*layers*/,
                              std::size_t /*groups*/, std::size_t /*width_per_group*/,
                              std::size_t /*num_classes*/) {
  throw convbook::Error("exercise 10.1 (resnet_parameters): not implemented yet");
}

std::vector<float> pad_shortcut_forward(const std::vector<float>& /*x*/, std::size_t /*N*/,
                                        std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                        std::size_t /*K*/, std::size_t /*stride*/) {
  throw convbook::Error("exercise 10.2 (pad_shortcut_forward): not implemented yet");
}

std::vector<float> pad_shortcut_backward(const std::vector<float>& /*dy*/, std::size_t /*N*/,
                                         std::size_t /*C*/, std::size_t /*H*/, std::size_t /*W*/,
                                         std::size_t /*K*/, std::size_t /*stride*/) {
  throw convbook::Error("exercise 10.2 (pad_shortcut_backward): not implemented yet");
}

StageGeometry stage_geometry(std::size_t /*H*/, const std::array<bool, 3>& /*replace*/) {
  throw convbook::Error("exercise 10.3 (stage_geometry): not implemented yet");
}

}  // namespace convbook::ex10
