#include "convbook/layers/activation.hpp"

#include <utility>

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
template void add_relu_forward_mask<float>(const float*, const float*, float*, std::uint8_t*,
                                           std::size_t);
template void add_relu_forward_mask<double>(const double*, const double*, double*, std::uint8_t*,
                                            std::size_t);
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
void add_relu_forward_mask(const T* a, const T* b, T* y, std::uint8_t* active, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
  for (std::size_t i = 0; i < n; ++i) {
    const T sum = a[i] + b[i];
    active[i] = sum > T(0);
    y[i] = sum > T(0) ? sum : T(0);
  }
}

template <typename T>
void relu_backward_mask(const std::uint8_t* active, const T* dy, T* dx, std::size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
  for (std::size_t i = 0; i < n; ++i) dx[i] = active[i] ? dy[i] : T(0);
}
//! [relu-fast]

Tensor ReLU::forward(const Tensor& x) {
  Tensor y(x.shape());
  return run_forward(x, y);
}

Tensor ReLU::forward(Tensor&& x) {
  return run_forward(x, x);  // in place
}

Tensor ReLU::forward_sum(Tensor&& a, const Tensor& b) {
  const ProfileScope scope(this, Pass::forward);
  has_mask_ = grad_enabled();
  if (has_mask_) {
    active_.resize(a.size());
    add_relu_forward_mask(a.data(), b.data(), a.data(), active_.data(), a.size());
  } else {
    add_into(a, b);
    relu_forward(a.data(), a.data(), a.size());
  }
  shape_ = shape_of(a);
  return std::move(a);
}

Tensor ReLU::run_forward(const Tensor& x, Tensor& y) {
  const ProfileScope scope(this, Pass::forward);
  has_mask_ = grad_enabled();
  if (has_mask_) {
    active_.resize(x.size());
    relu_forward_mask(x.data(), y.data(), active_.data(), x.size());
  } else {
    relu_forward(x.data(), y.data(), x.size());
  }
  shape_ = shape_of(x);
  return std::move(y);
}

Tensor ReLU::backward(const Tensor& dy) {
  Tensor dx(dy.shape());
  return run_backward(dy, dx);
}

Tensor ReLU::backward(Tensor&& dy) {
  return run_backward(dy, dy);  // in place
}

Tensor ReLU::run_backward(const Tensor& dy, Tensor& dx) {
  const ProfileScope scope(this, Pass::backward);
  if (!has_mask_) {
    throw Error("ReLU: backward called before forward (or after a forward under NoGradGuard)");
  }
  if (shape_of(dy) != shape_) {
    throw Error("ReLU: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(shape_));
  }
  relu_backward_mask(active_.data(), dy.data(), dx.data(), dy.size());
  return std::move(dx);
}

}  // namespace convbook
