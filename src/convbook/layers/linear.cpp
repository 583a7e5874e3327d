#include "convbook/layers/linear.hpp"

#include <cmath>

#include "convbook/error.hpp"
#include "convbook/init.hpp"
#include "convbook/profile.hpp"

// Legend: N batch, C in-features, K out-features.

namespace convbook {

//! [linear-kernels]
// x: (N, C)  w: (K, C)  b: (K)  y: (N, K)
template <typename T>
void linear_forward(const T* x, const T* w, const T* b, T* y, std::size_t N, std::size_t C,
                    std::size_t K) {
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t k = 0; k < K; ++k) {
      T acc = b ? b[k] : T(0);
      for (std::size_t c = 0; c < C; ++c) acc += x[n * C + c] * w[k * C + c];
      y[n * K + k] = acc;
    }
  }
}

// x: (N, C)  w: (K, C)  dy: (N, K)  dx: (N, C)  dw: (K, C)  db: (K)
template <typename T>
void linear_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t N,
                     std::size_t C, std::size_t K) {
  for (std::size_t i = 0; i < N * C; ++i) dx[i] = T(0);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t k = 0; k < K; ++k) {
      const T g = dy[n * K + k];
      for (std::size_t c = 0; c < C; ++c) {
        dx[n * C + c] += g * w[k * C + c];  // dL/dx = dy W
        dw[k * C + c] += g * x[n * C + c];  // dL/dW = dy^T x, summed over the batch
      }
      if (db) db[k] += g;  // dL/db = sum over the batch of dy
    }
  }
}
//! [linear-kernels]

template void linear_forward<float>(const float*, const float*, const float*, float*, std::size_t,
                                    std::size_t, std::size_t);
template void linear_forward<double>(const double*, const double*, const double*, double*,
                                     std::size_t, std::size_t, std::size_t);
template void linear_backward<float>(const float*, const float*, const float*, float*, float*,
                                     float*, std::size_t, std::size_t, std::size_t);
template void linear_backward<double>(const double*, const double*, const double*, double*, double*,
                                      double*, std::size_t, std::size_t, std::size_t);

Linear::Linear(std::size_t in_features, std::size_t out_features, bool with_bias)
    : in_(in_features), out_(out_features), has_bias_(with_bias) {
  if (in_features == 0 || out_features == 0) {
    throw Error("Linear: in_features=" + std::to_string(in_features) +
                " and out_features=" + std::to_string(out_features) + " must both be >= 1");
  }
  weight = Parameter::make({out_, in_});
  // PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) => U(-1/sqrt(C), 1/sqrt(C)).
  kaiming_uniform_(weight, std::sqrt(5.0), FanMode::FanIn);
  register_parameter("weight", &weight);
  if (has_bias_) {
    bias = Parameter::make({out_});
    const double bound = 1.0 / std::sqrt(double(in_));
    uniform_(bias, -bound, bound);
    register_parameter("bias", &bias);
  }
}

Tensor Linear::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  const Shape s = shape_of(x);
  if (s[1] != in_ || s[2] != 1 || s[3] != 1) {
    throw Error("Linear: input shape " + to_string(s) + " does not match the expected (N, " +
                std::to_string(in_) + ", 1, 1); put a Flatten before a Linear");
  }
  x_ = grad_enabled() ? x : Tensor();
  last_batch_ = s[0];
  Tensor y = zeros({s[0], out_, 1, 1});
  linear_forward(x.data(), weight.value.data(), has_bias_ ? bias.value.data() : nullptr, y.data(),
                 s[0], in_, out_);
  return y;
}

Tensor Linear::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  if (x_.size() == 0) {
    throw Error("Linear: backward called before forward (or after a forward under NoGradGuard)");
  }
  const std::size_t N = x_.shape()[0];
  if (shape_of(dy) != Shape{N, out_, 1, 1}) {
    throw Error("Linear: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(Shape{N, out_, 1, 1}));
  }
  Tensor dx = zeros({N, in_, 1, 1});
  linear_backward(x_.data(), weight.value.data(), dy.data(), dx.data(), weight.grad.data(),
                  has_bias_ ? bias.grad.data() : nullptr, N, in_, out_);
  return dx;
}

std::string Linear::repr() const {
  return "Linear(in_features=" + std::to_string(in_) + ", out_features=" + std::to_string(out_) +
         ", bias=" + (has_bias_ ? "True" : "False") + ")";
}

double Linear::flops() const {
  return 2.0 * double(last_batch_) * double(in_) * double(out_);
}

}  // namespace convbook
