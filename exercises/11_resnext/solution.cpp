// Chapter 11 exercises: the book's answers.
#include "exercise.hpp"

namespace convbook::ex11 {

std::size_t resnext29_parameters(std::size_t cardinality, std::size_t bottleneck_width,
                                 std::size_t widen_factor, std::size_t num_classes) {
  auto conv_bn = [](std::size_t in, std::size_t out, std::size_t k, std::size_t g) {
    return out * (in / g) * k * k + 2 * out;  // weights + gamma and beta
  };
  std::size_t total = conv_bn(3, 64, 3, 1);  // the stem
  std::size_t in = 64;
  for (std::size_t stage = 0; stage < 3; ++stage) {
    const std::size_t out = (64 * widen_factor) << stage;
    const std::size_t width = (cardinality * bottleneck_width) << stage;  // G d 2^s
    for (std::size_t b = 0; b < 3; ++b) {
      total += conv_bn(in, width, 1, 1) + conv_bn(width, width, 3, cardinality) +
               conv_bn(width, out, 1, 1);
      if (b == 0 && (stage > 0 || in != out)) total += conv_bn(in, out, 1, 1);  // projection
      in = out;
    }
  }
  return total + in * num_classes + num_classes;  // fc
}

//! [solution-equal-complexity]
std::size_t equal_complexity_width(std::size_t channels, std::size_t cardinality,
                                   std::size_t budget) {
  // weights(d) = C G d (1x1 in) + 9 G d^2 (G groups of d x d x 3 x 3) + G d C (1x1 out):
  // increasing in d, so walk up until the next d would be farther from the budget.
  auto weights = [&](std::size_t d) {
    return 2 * channels * cardinality * d + 9 * cardinality * d * d;
  };
  auto distance = [&](std::size_t d) {
    return weights(d) > budget ? weights(d) - budget : budget - weights(d);
  };
  std::size_t d = 1;
  while (weights(d) < budget && distance(d + 1) < distance(d)) ++d;
  return d;
}
//! [solution-equal-complexity]

//! [solution-split]
std::vector<PathWeights> split_grouped_block(const std::vector<float>& conv1,
                                             const std::vector<float>& conv2,
                                             const std::vector<float>& conv3, std::size_t C,
                                             std::size_t K, std::size_t G, std::size_t d) {
  std::vector<PathWeights> paths(G);
  for (std::size_t g = 0; g < G; ++g) {
    PathWeights& p = paths[g];
    // conv1 and the grouped conv2: path g owns output channels g d .. g d + d, i.e. rows.
    p.conv1.assign(conv1.begin() + g * d * C, conv1.begin() + (g + 1) * d * C);
    p.conv2.assign(conv2.begin() + g * d * d * 9, conv2.begin() + (g + 1) * d * d * 9);
    // conv3 reads all G d channels: path g owns its input channels g d .. g d + d, i.e. the
    // columns g d .. g d + d of each of the K rows. Summing the G products is the 1x1 on
    // the concatenation.
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = 0; j < d; ++j) p.conv3.push_back(conv3[k * G * d + g * d + j]);
  }
  return paths;
}
//! [solution-split]

}  // namespace convbook::ex11
