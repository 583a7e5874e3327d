/// @file squeeze_excitation.cpp
/// @brief Sigmoid and the SE block: forward, and the backward through the product x * e.
#include "chapters/09_attention/squeeze_excitation.hpp"

#include "chapters/09_attention/attention_ops.hpp"
#include "convbook/error.hpp"

namespace convbook {

Tensor Sigmoid::forward(const Tensor& x) {
  y_ = Tensor(x.shape());
  sigmoid_forward(x.data(), y_.data(), x.size());
  return y_;
}

Tensor Sigmoid::backward(const Tensor& dy) {
  if (dy.shape() != y_.shape()) {
    throw Error("Sigmoid: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(shape_of(y_)));
  }
  Tensor dx(dy.shape());
  sigmoid_backward(y_.data(), dy.data(), dx.data(), dy.size());
  return dx;
}

std::size_t reduced_channels(const std::string& block, std::size_t channels,
                             std::size_t reduction) {
  const std::string where = block + ": ";
  if (channels == 0) throw Error(where + "channels=0, expected at least 1");
  if (reduction == 0) throw Error(where + "reduction=0, expected at least 1");
  if (reduction > channels) {
    throw Error(where + "reduction " + std::to_string(reduction) + " > channels " +
                std::to_string(channels) +
                " leaves no hidden channel; expected reduction <= " + "channels");
  }
  return channels / reduction;
}

void check_block_input(const Module& block, const Tensor& x, std::size_t C) {
  const Shape s = shape_of(x);
  if (s[1] != C) {
    throw Error(block.repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(C));
  }
}

void check_block_grad(const Module& block, const Tensor& dy, const Tensor& x) {
  if (dy.shape() != x.shape() || x.size() == 0) {
    throw Error(block.repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward input's shape " + to_string(shape_of(x)));
  }
}

SqueezeExcitation::SqueezeExcitation(std::size_t channels, std::size_t reduction)
    : fc1(Conv2dOptions(channels,
                        reduced_channels("SqueezeExcitation(" + std::to_string(channels) +
                                             ", reduction=" + std::to_string(reduction) + ")",
                                         channels, reduction),
                        1)),
      fc2(Conv2dOptions(channels / reduction, channels, 1)),
      C_(channels),
      r_(reduction) {
  // torchvision.ops.SqueezeExcitation's order and names
  register_module("fc1", &fc1);
  register_module("activation", &relu);
  register_module("fc2", &fc2);
  register_module("scale_activation", &gate);
}

//! [se-forward]
Tensor SqueezeExcitation::forward(const Tensor& x) {
  check_block_input(*this, x, C_);
  const Shape s = shape_of(x);
  const std::size_t N = s[0], C = s[1], L = s[2] * s[3];
  Tensor z = zeros({N, C, 1, 1});
  global_avg_pool(x.data(), z.data(), N, C, L);                  // squeeze
  e_ = gate.forward(fc2.forward(relu.forward(fc1.forward(z))));  // excitation
  Tensor y(x.shape());
  channel_scale_forward(x.data(), e_.data(), y.data(), N, C, L);  // scale
  x_ = x;
  return y;
}
//! [se-forward]

//! [se-backward]
Tensor SqueezeExcitation::backward(const Tensor& dy) {
  check_block_grad(*this, dy, x_);
  const Shape s = shape_of(x_);
  const std::size_t N = s[0], C = s[1], L = s[2] * s[3];
  // y = x * e: the product rule gives two gradients. First de = sum over H x W of dy * x ...
  Tensor de = zeros({N, C, 1, 1});
  channel_scale_grad(x_.data(), dy.data(), de.data(), N, C, L);
  // ... which flows back through the excitation to the squeezed z ...
  const Tensor dz = fc1.backward(relu.backward(fc2.backward(gate.backward(de))));
  // ... and x receives both: dy * e directly, dz / L through the mean that made z.
  Tensor dx(x_.shape());
  if (naive_) {
    channel_scale_forward(dy.data(), e_.data(), dx.data(), N, C, L);  // pass 1: dy * e
    global_avg_pool_backward_add(dz.data(), dx.data(), N, C, L);      // pass 2: + dz / L
  } else {
    channel_gate_backward_fused(dy.data(), e_.data(), dz.data(),
                                static_cast<const Scalar*>(nullptr), nullptr, dx.data(), N, C,
                                L);  // both in one pass
  }
  return dx;
}
//! [se-backward]

std::string SqueezeExcitation::repr() const {
  return "SqueezeExcitation(" + std::to_string(C_) + ", reduction=" + std::to_string(r_) +
         ", squeeze_channels=" + std::to_string(C_ / r_) + ")";
}

double SqueezeExcitation::flops() const {
  // the squeeze adds every value once, the scale multiplies every value once
  return Module::flops() + 2.0 * double(x_.size());
}

}  // namespace convbook
