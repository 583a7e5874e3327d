/// @file rsoftmax.cpp
/// @brief r-softmax forward and backward, and its Module.
#include "chapters/09_attention/rsoftmax.hpp"

#include <algorithm>
#include <cmath>

#include "chapters/09_attention/attention_ops.hpp"
#include "convbook/error.hpp"

namespace convbook {

//! [rsoftmax]
// x: (N, G, R, J)  y, dy, dx as noted: y and dy (N, R, G, J), dx (N, G, R, J)
template <typename T>
void rsoftmax_forward(const T* x, T* y, std::size_t N, std::size_t G, std::size_t R,
                      std::size_t J) {
  if (R == 1) return sigmoid_forward(x, y, N * G * J);  // (N, G, 1, J) is (N, 1, G, J)
  auto in = [&](std::size_t n, std::size_t g, std::size_t r, std::size_t j) {
    return ((n * G + g) * R + r) * J + j;
  };
  auto out = [&](std::size_t n, std::size_t g, std::size_t r, std::size_t j) {
    return ((n * R + r) * G + g) * J + j;
  };
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t g = 0; g < G; ++g)
      for (std::size_t j = 0; j < J; ++j) {
        T top = x[in(n, g, 0, j)];  // subtract the largest logit: exp never overflows
        for (std::size_t r = 1; r < R; ++r) top = std::max(top, x[in(n, g, r, j)]);
        T sum = 0;
        for (std::size_t r = 0; r < R; ++r)
          sum += y[out(n, g, r, j)] = std::exp(x[in(n, g, r, j)] - top);
        for (std::size_t r = 0; r < R; ++r) y[out(n, g, r, j)] /= sum;
      }
}

template <typename T>
void rsoftmax_backward(const T* y, const T* dy, T* dx, std::size_t N, std::size_t G, std::size_t R,
                       std::size_t J) {
  if (R == 1) return sigmoid_backward(y, dy, dx, N * G * J);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t g = 0; g < G; ++g)
      for (std::size_t j = 0; j < J; ++j) {
        // dx_r = sum_r' (d y_r' / d x_r) dy_r' = y_r (dy_r - <y, dy>): one dot product
        T dot = 0;
        for (std::size_t r = 0; r < R; ++r) {
          const std::size_t o = ((n * R + r) * G + g) * J + j;
          dot += y[o] * dy[o];
        }
        for (std::size_t r = 0; r < R; ++r) {
          const std::size_t o = ((n * R + r) * G + g) * J + j;
          dx[((n * G + g) * R + r) * J + j] = y[o] * (dy[o] - dot);
        }
      }
}
//! [rsoftmax]

template void rsoftmax_forward<float>(const float*, float*, std::size_t, std::size_t, std::size_t,
                                      std::size_t);
template void rsoftmax_forward<double>(const double*, double*, std::size_t, std::size_t,
                                       std::size_t, std::size_t);
template void rsoftmax_backward<float>(const float*, const float*, float*, std::size_t, std::size_t,
                                       std::size_t, std::size_t);
template void rsoftmax_backward<double>(const double*, const double*, double*, std::size_t,
                                        std::size_t, std::size_t, std::size_t);

RSoftmax::RSoftmax(std::size_t radix, std::size_t cardinality) : R_(radix), G_(cardinality) {
  if (radix == 0 || cardinality == 0) {
    throw Error(repr() + ": radix and cardinality must be at least 1");
  }
}

Tensor RSoftmax::forward(const Tensor& x) {
  const Shape s = shape_of(x);
  if (s[2] != 1 || s[3] != 1 || s[1] % (R_ * G_) != 0) {
    throw Error(repr() + ": input " + to_string(s) + ", expected (N, C, 1, 1) with C divisible " +
                "by radix * cardinality = " + std::to_string(R_ * G_));
  }
  y_ = Tensor(x.shape());
  rsoftmax_forward(x.data(), y_.data(), s[0], G_, R_, s[1] / (R_ * G_));
  return y_;
}

Tensor RSoftmax::backward(const Tensor& dy) {
  if (dy.shape() != y_.shape() || y_.size() == 0) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(shape_of(y_)));
  }
  const Shape s = shape_of(dy);
  Tensor dx(dy.shape());
  rsoftmax_backward(y_.data(), dy.data(), dx.data(), s[0], G_, R_, s[1] / (R_ * G_));
  return dx;
}

std::string RSoftmax::repr() const {
  return "RSoftmax(radix=" + std::to_string(R_) + ", cardinality=" + std::to_string(G_) + ")";
}

}  // namespace convbook
