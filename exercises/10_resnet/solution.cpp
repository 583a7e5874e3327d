// Chapter 10 exercises: the book's answers.
#include "exercise.hpp"

namespace convbook::ex10 {

std::size_t resnet_parameters(bool bottleneck, const std::array<std::size_t, 4>& layers,
                              std::size_t groups, std::size_t width_per_group,
                              std::size_t num_classes) {
  const std::size_t expansion = bottleneck ? 4 : 1;
  auto conv_bn = [](std::size_t in, std::size_t out, std::size_t k, std::size_t g) {
    return out * (in / g) * k * k + 2 * out;  // weights + gamma and beta
  };
  std::size_t total = conv_bn(3, 64, 7, 1);  // the stem
  std::size_t inplanes = 64;
  for (std::size_t stage = 0; stage < 4; ++stage) {
    const std::size_t planes = 64 << stage, out = planes * expansion;
    const std::size_t width = planes * width_per_group / 64 * groups;
    for (std::size_t b = 0; b < layers[stage]; ++b) {
      if (bottleneck) {
        total += conv_bn(inplanes, width, 1, 1) + conv_bn(width, width, 3, groups) +
                 conv_bn(width, out, 1, 1);
      } else {
        total += conv_bn(inplanes, planes, 3, 1) + conv_bn(planes, planes, 3, 1);
      }
      // only the first block of a stage projects, when the stride or the channels change
      if (b == 0 && (stage > 0 || inplanes != out)) total += conv_bn(inplanes, out, 1, 1);
      inplanes = out;
    }
  }
  return total + inplanes * num_classes + num_classes;  // fc
}

//! [solution-pad-shortcut]
std::vector<float> pad_shortcut_forward(const std::vector<float>& x, std::size_t N, std::size_t C,
                                        std::size_t H, std::size_t W, std::size_t K,
                                        std::size_t stride) {
  const std::size_t P = (H + stride - 1) / stride, Q = (W + stride - 1) / stride;
  const std::size_t pad = (K - C) / 2;
  std::vector<float> y(N * K * P * Q, 0.0f);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t q = 0; q < Q; ++q)
          y[((n * K + pad + c) * P + p) * Q + q] =
              x[((n * C + c) * H + p * stride) * W + q * stride];
  return y;
}

std::vector<float> pad_shortcut_backward(const std::vector<float>& dy, std::size_t N, std::size_t C,
                                         std::size_t H, std::size_t W, std::size_t K,
                                         std::size_t stride) {
  const std::size_t P = (H + stride - 1) / stride, Q = (W + stride - 1) / stride;
  const std::size_t pad = (K - C) / 2;
  std::vector<float> dx(N * C * H * W, 0.0f);  // skipped pixels had no path to y: zero
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t q = 0; q < Q; ++q)
          dx[((n * C + c) * H + p * stride) * W + q * stride] =
              dy[((n * K + pad + c) * P + p) * Q + q];
  return dx;
}
//! [solution-pad-shortcut]

StageGeometry stage_geometry(std::size_t H, const std::array<bool, 3>& replace) {
  StageGeometry g;
  auto out = [](std::size_t h, std::size_t k, std::size_t s, std::size_t p) {
    return (h + 2 * p - k) / s + 1;
  };
  std::size_t side = out(out(H, 7, 2, 3), 3, 2, 1);  // conv1, then the max-pool
  std::size_t dilation = 1;
  g.side[0] = side;
  g.dilation[0] = 1;
  for (std::size_t stage = 1; stage < 4; ++stage) {
    if (replace[stage - 1]) {
      dilation *= 2;  // the stride 2 becomes a dilation 2: the side stays
    } else {
      side = out(side, 3, 2, 1);  // the first block's strided 3x3 (or 1x1 in the projection)
    }
    g.side[stage] = side;
    g.dilation[stage] = dilation;
  }
  return g;
}

}  // namespace convbook::ex10
