// Chapter 11 exercises: your answers. Replace each throw with your code, then run
// `make exercise CH=11`. The statements are in README.md and exercise.hpp.
#include "exercise.hpp"

#include "convbook/error.hpp"

namespace convbook::ex11 {

std::size_t resnext29_parameters(std::size_t /*cardinality*/, std::size_t /*bottleneck_width*/,
                                 std::size_t /*widen_factor*/, std::size_t /*num_classes*/) {
  throw convbook::Error("exercise 11.1 (resnext29_parameters): not implemented yet");
}

std::size_t equal_complexity_width(std::size_t /*channels*/, std::size_t /*cardinality*/,
                                   std::size_t /*budget*/) {
  throw convbook::Error("exercise 11.2 (equal_complexity_width): not implemented yet");
}

std::vector<PathWeights> split_grouped_block(const std::vector<float>& /*conv1*/,
                                             const std::vector<float>& /*conv2*/,
                                             const std::vector<float>& /*conv3*/, std::size_t /*C*/,
                                             std::size_t /*K*/, std::size_t /*G*/,
                                             std::size_t /*d*/) {
  throw convbook::Error("exercise 11.3 (split_grouped_block): not implemented yet");
}

}  // namespace convbook::ex11
