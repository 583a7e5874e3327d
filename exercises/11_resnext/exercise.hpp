#pragma once
/// @file exercise.hpp
/// @brief Chapter 11's exercises: ResNeXt-29's parameter count in closed form, the bottleneck
/// width that keeps a block's complexity as the cardinality grows (the paper's Table 2), and
/// the weights of the multi-path form (a) cut out of the grouped form (c).
///
/// Legend: C in-channels, K out-channels, G cardinality (groups), d the width of one path.
/// Arrays are plain row-major std::vector<float> in PyTorch's layouts. `make exercise CH=11`
/// checks your exercise.cpp against the framework (check.cpp); the book's answers are in
/// solution.cpp.
#include <cstddef>
#include <vector>

namespace convbook::ex11 {

/// @brief Exercise 11.1: the trainable parameters of ResNeXt-29 (G x d, widen factor w), in
/// closed form, without building it.
///
/// The stem is conv3x3 3 -> 64 + BN; stage s (0, 1, 2) has 3 bottlenecks with output
/// 64 w 2^s and inner width G d 2^s (1x1, grouped 3x3, 1x1, each + BN); the first block of a
/// stage adds a conv1x1 + BN projection when it strides or changes the channels; then fc.
/// @return what Module::num_parameters() returns for resnext29 (8x64d: 34,426,698)
std::size_t resnext29_parameters(std::size_t cardinality, std::size_t bottleneck_width,
                                 std::size_t widen_factor, std::size_t num_classes);

/// @brief Exercise 11.2: the bottleneck width d >= 1 that makes the G-path block
/// 1x1 (C -> G d), grouped 3x3 (G d -> G d, G groups), 1x1 (G d -> C) hold the number of
/// convolution weights closest to `budget` (the smaller d on a tie).
/// @param channels    C, the block's input and output channels
/// @param cardinality G
/// @param budget      the weights to match, e.g. those of the 1x64d block (69,632 at C = 256)
std::size_t equal_complexity_width(std::size_t channels, std::size_t cardinality,
                                   std::size_t budget);

/// @brief The weights of one path of form (a), from exercise 11.3.
struct PathWeights {
  std::vector<float> conv1;  ///< (d, C, 1, 1)
  std::vector<float> conv2;  ///< (d, d, 3, 3)
  std::vector<float> conv3;  ///< (K, d, 1, 1)
};

/// @brief Exercise 11.3: form (c)'s three convolution weights cut into the G paths of form (a)
/// so that the two blocks compute the same function.
/// @param conv1 (G d, C, 1, 1)
/// @param conv2 (G d, d, 3, 3), the grouped 3x3 (PyTorch's (K, C / G, R, S))
/// @param conv3 (K, G d, 1, 1)
/// @return the G paths' weights, path g first
std::vector<PathWeights> split_grouped_block(const std::vector<float>& conv1,
                                             const std::vector<float>& conv2,
                                             const std::vector<float>& conv3, std::size_t C,
                                             std::size_t K, std::size_t G, std::size_t d);

}  // namespace convbook::ex11
