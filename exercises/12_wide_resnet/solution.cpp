// Chapter 12 exercises: the book's answers.
#include "exercise.hpp"

namespace convbook::ex12 {

std::size_t wrn_parameters(std::size_t depth, std::size_t width, std::size_t num_classes) {
  const std::size_t n = (depth - 4) / 6;
  std::size_t total = 3 * 16 * 9;  // conv0, no BN behind it: the first block pre-activates
  std::size_t in = 16;
  for (std::size_t g = 0; g < 3; ++g) {
    const std::size_t out = (16 << g) * width;
    for (std::size_t b = 0; b < n; ++b) {
      total += 2 * in + in * out * 9;                         // bn0, conv0
      total += 2 * out + out * out * 9;                       // bn1, conv1
      if (in != out || (g > 0 && b == 0)) total += in * out;  // convdim, 1x1
      in = out;
    }
  }
  return total + 2 * in + in * num_classes + num_classes;  // bn, fc
}

double wrn_conv_flops(std::size_t depth, std::size_t width, std::size_t side) {
  const std::size_t n = (depth - 4) / 6;
  auto conv = [](double c, double k, double r, double p) { return 2 * c * k * r * r * p * p; };
  double total = conv(3, 16, 3, double(side));
  std::size_t in = 16, h = side;
  for (std::size_t g = 0; g < 3; ++g) {
    const std::size_t out = (16 << g) * width;
    for (std::size_t b = 0; b < n; ++b) {
      const std::size_t stride = g > 0 && b == 0 ? 2 : 1;
      const std::size_t p = (h - 1) / stride + 1;
      total += conv(double(in), double(out), 3, double(p)) +
               conv(double(out), double(out), 3, double(p));
      if (in != out || stride != 1) total += conv(double(in), double(out), 1, double(p));
      in = out;
      h = p;
    }
  }
  return total;
}

//! [solution-variance-ratio]
std::vector<double> dropout_variance_ratio(const std::vector<float>& x, std::size_t N,
                                           std::size_t C, std::size_t H, std::size_t W, double p) {
  std::vector<double> ratio(C);
  for (std::size_t c = 0; c < C; ++c) {
    double sum = 0, sum_sq = 0;
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t i = 0; i < H * W; ++i) {
        const double v = x[(n * C + c) * H * W + i];
        sum += v;
        sum_sq += v * v;
      }
    const double count = double(N * H * W), mean = sum / count, second = sum_sq / count;
    // E[z] = E[x]; E[z^2] = E[x^2] E[m^2] / (1 - p)^2 = E[x^2] / (1 - p)
    const double var_train = second / (1 - p) - mean * mean, var_eval = second - mean * mean;
    ratio[c] = var_train / var_eval;
  }
  return ratio;
}
//! [solution-variance-ratio]

}  // namespace convbook::ex12
