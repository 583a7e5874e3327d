#include "convbook/layers/activation.hpp"

#include "convbook/error.hpp"
#include "convbook/profile.hpp"

namespace convbook {

//! [relu-kernels]
// x, y, dy, dx: n values, any layout
template <typename T>
void relu_forward(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <typename T>
void relu_backward(const T* y, const T* dy, T* dx, std::size_t n) {
  // dy/dx is 1 where the unit was active and 0 where it was clipped: the gradient is gated.
  for (std::size_t i = 0; i < n; ++i) dx[i] = y[i] > T(0) ? dy[i] : T(0);
}
//! [relu-kernels]

template void relu_forward<float>(const float*, float*, std::size_t);
template void relu_forward<double>(const double*, double*, std::size_t);
template void relu_backward<float>(const float*, const float*, float*, std::size_t);
template void relu_backward<double>(const double*, const double*, double*, std::size_t);

Tensor ReLU::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  y_ = Tensor(x.shape());
  relu_forward(x.data(), y_.data(), x.size());
  return y_;
}

Tensor ReLU::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  if (dy.shape() != y_.shape()) {
    throw Error("ReLU: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(shape_of(y_)));
  }
  Tensor dx(dy.shape());
  relu_backward(y_.data(), dy.data(), dx.data(), dy.size());
  return dx;
}

}  // namespace convbook
