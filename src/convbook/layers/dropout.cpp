#include "convbook/layers/dropout.hpp"

#include <cstdio>
#include <cstdlib>

#include "convbook/error.hpp"
#include "convbook/random.hpp"

namespace convbook {

namespace {
// Python's repr of a float: shortest round-trip text, "0.5", "1e-05", "0.0".
std::string python_float(double v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0 && p < 1)) throw Error("Dropout: p=" + python_float(p) + ", expected in [0, 1)");
}

//! [dropout]
Tensor Dropout::forward(const Tensor& x) {
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
