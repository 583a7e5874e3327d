#include "convbook/layers/flatten.hpp"

#include <algorithm>

#include "convbook/error.hpp"
#include "convbook/profile.hpp"

namespace convbook {

Tensor Flatten::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  in_shape_ = shape_of(x);
  Tensor y = zeros({in_shape_[0], in_shape_[1] * in_shape_[2] * in_shape_[3], 1, 1});
  std::copy(x.data(), x.data() + x.size(), y.data());
  return y;
}

Tensor Flatten::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  const Shape flat = {in_shape_[0], in_shape_[1] * in_shape_[2] * in_shape_[3], 1, 1};
  if (shape_of(dy) != flat) {
    throw Error("Flatten: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(flat));
  }
  Tensor dx = zeros(in_shape_);
  std::copy(dy.data(), dy.data() + dy.size(), dx.data());
  return dx;
}

}  // namespace convbook
