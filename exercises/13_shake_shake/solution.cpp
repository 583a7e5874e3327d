// Chapter 13 exercises: the book's answers.
#include "exercise.hpp"

namespace convbook::ex13 {

//! [solution-parameters]
std::size_t shake_shake_parameters(std::size_t depth, std::size_t width,
                                   std::size_t num_classes) {
  const std::size_t n = (depth - 2) / 6;
  auto conv_bn = [](std::size_t in, std::size_t out, std::size_t k) {
    return out * in * k * k + 2 * out;  // weights + gamma and beta
  };
  std::size_t total = conv_bn(3, 16, 3);  // the stem
  std::size_t in = 16;
  for (std::size_t stage = 0; stage < 3; ++stage) {
    const std::size_t out = width << stage;
    for (std::size_t b = 0; b < n; ++b) {
      total += 2 * (conv_bn(in, out, 3) + conv_bn(out, out, 3));  // two branches
      if (in != out) total += 2 * (out / 2) * in + 2 * out;  // two conv1x1 halves + one BN
      in = out;
    }
  }
  return total + in * num_classes + num_classes;  // fc
}
//! [solution-parameters]

//! [solution-two-path]
std::vector<float> two_path_forward(const std::vector<float>& x, std::size_t N, std::size_t C,
                                    std::size_t H, std::size_t W, std::size_t stride) {
  const std::size_t P = (H + stride - 1) / stride, Q = (W + stride - 1) / stride;
  std::vector<float> y(N * 2 * C * P * Q, 0.0f);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t path = 0; path < 2; ++path)  // path 1 at offset 0, path 2 at offset 1
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t p = 0; p < P; ++p)
          for (std::size_t q = 0; q < Q; ++q) {
            const std::size_t h = p * stride + path, w = q * stride + path;
            if (h < H && w < W)
              y[((n * 2 * C + path * C + c) * P + p) * Q + q] = x[((n * C + c) * H + h) * W + w];
          }
  return y;
}

std::vector<float> two_path_backward(const std::vector<float>& dy, std::size_t N, std::size_t C,
                                     std::size_t H, std::size_t W, std::size_t stride) {
  const std::size_t P = (H + stride - 1) / stride, Q = (W + stride - 1) / stride;
  std::vector<float> dx(N * C * H * W, 0.0f);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t path = 0; path < 2; ++path)
      for (std::size_t c = 0; c < C; ++c)
        for (std::size_t p = 0; p < P; ++p)
          for (std::size_t q = 0; q < Q; ++q) {
            const std::size_t h = p * stride + path, w = q * stride + path;
            // += : at stride 1 a pixel is read by both paths and gets both gradients
            if (h < H && w < W)
              dx[((n * C + c) * H + h) * W + w] += dy[((n * 2 * C + path * C + c) * P + p) * Q + q];
          }
  return dx;
}
//! [solution-two-path]

//! [solution-flops]
double shake_shake_conv_flops(std::size_t depth, std::size_t width, std::size_t num_classes) {
  const std::size_t n = (depth - 2) / 6;
  // 2 K C R S per output pixel, P Q pixels
  auto conv = [](double in, double out, double k, double side) {
    return 2 * in * out * k * k * side * side;
  };
  double total = conv(3, 16, 3, 32);
  double in = 16, side = 32;
  for (std::size_t stage = 0; stage < 3; ++stage) {
    const double out = double(width << stage);
    for (std::size_t b = 0; b < n; ++b) {
      const bool first = stage > 0 && b == 0;
      const double out_side = first ? side / 2 : side;  // 32, 16, 8: sides are even here
      total += 2 * (conv(in, out, 3, out_side) + conv(out, out, 3, out_side));
      if (in != out) total += 2 * conv(in, out / 2, 1, out_side);
      in = out;
      side = out_side;
    }
  }
  return total + 2 * in * double(num_classes);
}
//! [solution-flops]

}  // namespace convbook::ex13
