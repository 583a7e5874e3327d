#include "convbook/layers/dropout.hpp"

#include "convbook/error.hpp"
#include "convbook/profile.hpp"
#include "convbook/random.hpp"
#include "convbook/repr.hpp"

namespace convbook {

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0 && p < 1)) throw Error("Dropout: p=" + python_float(p) + ", expected in [0, 1)");
}

//! [dropout]
Tensor Dropout::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  in_shape_ = shape_of(x);
  used_mask_ = training_ && p_ > 0;
  if (!used_mask_) return x;  // eval: identity, the training-time scaling made this unbiased
  mask_ = Tensor(x.shape());
  const Scalar keep_scale = Scalar(1.0 / (1.0 - p_));
  Rng& rng = global_rng();
  for (auto& m : mask_) m = rng.uniform() < p_ ? Scalar(0) : keep_scale;
  return x * mask_;
}

Tensor Dropout::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  if (shape_of(dy) != in_shape_) {
    throw Error("Dropout: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(in_shape_));
  }
  if (!used_mask_) return dy;
  return dy * mask_;  // y = x * mask is linear in x
}
//! [dropout]

std::string Dropout::repr() const {
  return "Dropout(p=" + python_float(p_) + ", inplace=False)";
}

}  // namespace convbook
