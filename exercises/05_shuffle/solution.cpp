// Chapter 05 exercises: the book's answers. Try exercise.cpp first.
#include <algorithm>

#include "exercise.hpp"

namespace convbook::ex05 {

//! [solution-index-map]
std::vector<std::size_t> shuffle_index_map(std::size_t C, std::size_t G) {
  // Channels as a (G, C/G) matrix, transposed to (C/G, G): output c = k G + gi holds the
  // input at row gi, column k, which is channel gi (C/G) + k.
  std::vector<std::size_t> src(C);
  for (std::size_t c = 0; c < C; ++c) src[c] = (c % G) * (C / G) + c / G;
  return src;
}

std::vector<std::size_t> inverse_permutation(const std::vector<std::size_t>& map) {
  std::vector<std::size_t> inv(map.size());
  for (std::size_t c = 0; c < map.size(); ++c) inv[map[c]] = c;
  return inv;
}
//! [solution-index-map]

//! [solution-concat-backward]
std::vector<std::vector<float>> concat_backward(const std::vector<float>& dy, std::size_t N,
                                                const std::vector<std::size_t>& channels,
                                                std::size_t H, std::size_t W) {
  std::size_t total = 0;
  for (std::size_t c : channels) total += c;
  const std::size_t plane = H * W;
  std::vector<std::vector<float>> dx;
  std::size_t first = 0;  // the first channel of part i inside y
  for (std::size_t Ci : channels) {
    std::vector<float> part(N * Ci * plane);
    // each value of y is one value of one part: cut dy where the forward joined
    for (std::size_t n = 0; n < N; ++n) {
      const float* from = dy.data() + (n * total + first) * plane;
      std::copy(from, from + Ci * plane, part.data() + n * Ci * plane);
    }
    dx.push_back(std::move(part));
    first += Ci;
  }
  return dx;
}
//! [solution-concat-backward]

//! [solution-cost]
namespace {
// A conv without bias on a P x Q output, and its BN: K (C/groups) R S weights + 2 K BN params.
void add_conv_bn(Cost& cost, std::size_t C, std::size_t K, std::size_t groups, std::size_t R,
                 std::size_t P, std::size_t Q) {
  cost.params += K * (C / groups) * R * R + 2 * K;
  cost.flops += 2.0 * P * Q * K * (C / groups) * R * R + 2.0 * K * P * Q;
}
std::size_t out_size(std::size_t h, std::size_t stride) {
  return (h - 1) / stride + 1;
}
}  // namespace

Cost shuffle_unit_cost(std::size_t C, std::size_t K, std::size_t M, std::size_t G,
                       std::size_t stride, bool group_first_conv, std::size_t H, std::size_t W) {
  const std::size_t P = out_size(H, stride), Q = out_size(W, stride);
  const std::size_t main = stride == 1 ? K : K - C;
  Cost cost;
  add_conv_bn(cost, C, M, group_first_conv ? G : 1, 1, H, W);  // 1x1 group conv
  add_conv_bn(cost, M, M, M, 3, P, Q);                         // 3x3 depthwise
  add_conv_bn(cost, M, main, G, 1, P, Q);                      // 1x1 group conv
  if (stride == 2) cost.flops += 9.0 * C * P * Q;              // 3x3 average pool
  return cost;
}

Cost resnet_bottleneck_cost(std::size_t C, std::size_t K, std::size_t M, std::size_t stride,
                            std::size_t H, std::size_t W) {
  const std::size_t P = out_size(H, stride), Q = out_size(W, stride);
  Cost cost;
  add_conv_bn(cost, C, M, 1, 1, H, W);
  add_conv_bn(cost, M, M, 1, 3, P, Q);
  add_conv_bn(cost, M, K, 1, 1, P, Q);
  if (stride != 1 || C != K) add_conv_bn(cost, C, K, 1, 1, P, Q);  // projection shortcut
  return cost;
}
//! [solution-cost]

}  // namespace convbook::ex05
