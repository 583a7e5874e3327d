// Chapter 03 exercises: the book's answers. Try exercise.cpp first.
#include "exercise.hpp"

namespace convbook::ex03 {

std::size_t output_side(std::size_t H, std::size_t kernel, std::size_t stride,
                        std::size_t padding) {
  return (H + 2 * padding - kernel) / stride + 1;  // window starts 0, s, 2s, ... that fit
}

std::size_t same_padding(std::size_t kernel) {
  // P = H + 2p - R + 1 = H  <=>  p = (R - 1) / 2, an integer only for odd R.
  return (kernel - 1) / 2;
}

namespace {
// The branches' K_i x C weights, stacked: K_total x C, branch i's rows after branch i-1's.
std::vector<float> stack_rows(const std::vector<std::vector<float>>& weights) {
  std::vector<float> stacked;
  for (const auto& w : weights) stacked.insert(stacked.end(), w.begin(), w.end());
  return stacked;
}

// A conv followed by BN over H W pixels: weights, gamma, beta; 2 FLOPs per multiply-add and
// 2 per BN output value.
void add_conv_bn(Cost& c, std::size_t in, std::size_t out, std::size_t kernel, double pixels) {
  const std::size_t weights = in * out * kernel * kernel;
  c.params += weights + 2 * out;
  c.flops += 2 * pixels * double(weights) + 2 * pixels * double(out);
}
}  // namespace

Cost inception_cost(std::size_t C, std::size_t H, std::size_t W, const InceptionWidths& w,
                    bool reductions) {
  const double px = double(H) * double(W);
  Cost c;
  add_conv_bn(c, C, w.ch1x1, 1, px);
  if (reductions) {
    add_conv_bn(c, C, w.ch3x3red, 1, px);
    add_conv_bn(c, w.ch3x3red, w.ch3x3, 3, px);
    add_conv_bn(c, C, w.ch5x5red, 1, px);
    add_conv_bn(c, w.ch5x5red, w.ch5x5, 5, px);
    add_conv_bn(c, C, w.pool_proj, 1, px);
  } else {
    add_conv_bn(c, C, w.ch3x3, 3, px);
    add_conv_bn(c, C, w.ch5x5, 5, px);
  }
  return c;
}

//! [solution-fused]
std::vector<float> fused_pointwise_forward(const std::vector<float>& x, std::size_t N,
                                           std::size_t C, std::size_t H, std::size_t W,
                                           const std::vector<std::vector<float>>& weights) {
  // With the weights stacked, one product per image writes the outputs in concatenated
  // order, with no copy.
  const std::vector<float> stacked = stack_rows(weights);
  const std::size_t K = stacked.size() / C, plane = H * W;
  std::vector<float> y(N * K * plane, 0.0f);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t c = 0; c < C; ++c) {
        const float wkc = stacked[k * C + c];
        const float* xc = &x[(n * C + c) * plane];
        float* yk = &y[(n * K + k) * plane];
        for (std::size_t p = 0; p < plane; ++p) yk[p] += wkc * xc[p];
      }
  return y;
}

std::vector<float> fused_pointwise_backward_input(const std::vector<float>& dy, std::size_t N,
                                                  std::size_t C, std::size_t H, std::size_t W,
                                                  const std::vector<std::vector<float>>& weights) {
  // sum_i w_i^T dy_i = [w_0; w_1; ...]^T [dy_0; dy_1; ...]: the split and the sum of the
  // branches' gradients are one product with the stacked weight, transposed.
  const std::vector<float> stacked = stack_rows(weights);
  const std::size_t K = stacked.size() / C, plane = H * W;
  std::vector<float> dx(N * C * plane, 0.0f);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t c = 0; c < C; ++c) {
        const float wkc = stacked[k * C + c];
        const float* dyk = &dy[(n * K + k) * plane];
        float* dxc = &dx[(n * C + c) * plane];
        for (std::size_t p = 0; p < plane; ++p) dxc[p] += wkc * dyk[p];
      }
  return dx;
}
//! [solution-fused]

}  // namespace convbook::ex03
