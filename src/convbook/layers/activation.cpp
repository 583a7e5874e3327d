#include "convbook/layers/activation.hpp"

#include "convbook/error.hpp"
#include "convbook/profile.hpp"

namespace convbook {

//! [relu-kernels]
// x, y, dy, dx: n values, any layout (large n spread over the threads)
template <typename T>
void relu_forward(const T* x, T* y, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
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
template void relu_forward_mask<float>(const float*, float*, std::uint8_t*, std::size_t);
template void relu_forward_mask<double>(const double*, double*, std::uint8_t*, std::size_t);
template void relu_backward_mask<float>(const std::uint8_t*, const float*, float*, std::size_t);
template void relu_backward_mask<double>(const std::uint8_t*, const double*, double*, std::size_t);

//! [relu-fast]
// The layer's kernels: the same max and gate, spread over the threads, and the gate kept as
// one byte per value instead of a copy of y: a quarter of the memory traffic.
template <typename T>
void relu_forward_mask(const T* x, T* y, std::uint8_t* active, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
  for (std::size_t i = 0; i < n; ++i) {
    active[i] = x[i] > T(0);
    y[i] = x[i] > T(0) ? x[i] : T(0);
  }
}

template <typename T>
void relu_backward_mask(const std::uint8_t* active, const T* dy, T* dx, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
  for (std::size_t i = 0; i < n; ++i) dx[i] = active[i] ? dy[i] : T(0);
}
//! [relu-fast]

Tensor ReLU::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  Tensor y(x.shape());
  has_mask_ = grad_enabled();
  if (has_mask_) {
    active_.resize(x.size());
    relu_forward_mask(x.data(), y.data(), active_.data(), x.size());
  } else {
    relu_forward(x.data(), y.data(), x.size());
  }
  shape_ = shape_of(x);
  return y;
}

Tensor ReLU::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  if (!has_mask_) {
    throw Error("ReLU: backward called before forward (or after a forward under NoGradGuard)");
  }
  if (shape_of(dy) != shape_) {
    throw Error("ReLU: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(shape_));
  }
  Tensor dx(dy.shape());
  relu_backward_mask(active_.data(), dy.data(), dx.data(), dy.size());
  return dx;
}

}  // namespace convbook
