/// @file cbam.cpp
/// @brief CBAM's channel gate, spatial gate and the block: forward and hand-written backward.
#include "chapters/09_attention/cbam.hpp"

#include <algorithm>
#include <memory>

#include "chapters/09_attention/attention_ops.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"

namespace convbook {

ChannelGate::ChannelGate(std::size_t channels, std::size_t reduction)
    : C_(channels), r_(reduction) {
  const std::size_t hidden = reduced_channels(repr(), channels, reduction);
  mlp.emplace<Flatten>();
  mlp.emplace<Linear>(channels, hidden);
  mlp.emplace<ReLU>();
  mlp.emplace<Linear>(hidden, channels);
  register_module("mlp", &mlp);
  register_module("gate", &gate);
}

//! [channel-gate-forward]
Tensor ChannelGate::forward(const Tensor& x) {
  check_block_input(*this, x, C_);
  const Shape sh = shape_of(x);
  const std::size_t N = sh[0], C = sh[1], L = sh[2] * sh[3];
  // Both descriptors in one (2N, C, 1, 1) batch: rows 0..N-1 the averages, N..2N-1 the
  // maxima. The MLP is shared, so one forward (and one backward) serves both.
  Tensor both = zeros({2 * N, C, 1, 1});
  argmax_.resize(N * C);
  if (naive_) {
    global_avg_pool(x.data(), both.data(), N, C, L);
    global_max_pool(x.data(), both.data() + N * C, argmax_.data(), N, C, L);
  } else {
    global_avg_max_pool_fused(x.data(), both.data(), both.data() + N * C, argmax_.data(), N, C, L);
  }
  const Tensor out = mlp.forward(both);
  Tensor sum = zeros({N, C, 1, 1});
  for (std::size_t i = 0; i < N * C; ++i) sum.data()[i] = out.data()[i] + out.data()[N * C + i];
  s_ = gate.forward(sum);
  Tensor y(x.shape());
  channel_scale_forward(x.data(), s_.data(), y.data(), N, C, L);
  x_ = x;
  return y;
}
//! [channel-gate-forward]

//! [channel-gate-backward]
Tensor ChannelGate::backward(const Tensor& dy) {
  check_block_grad(*this, dy, x_);
  const Shape sh = shape_of(x_);
  const std::size_t N = sh[0], C = sh[1], L = sh[2] * sh[3];
  Tensor ds = zeros({N, C, 1, 1});
  channel_scale_grad(x_.data(), dy.data(), ds.data(), N, C, L);  // y = x * s: ds = sum dy x
  const Tensor dsum = gate.backward(ds);
  // The sum of the two MLP outputs copies its gradient to both: the same rows twice.
  Tensor dout = zeros({2 * N, C, 1, 1});
  std::copy(dsum.begin(), dsum.end(), dout.begin());
  std::copy(dsum.begin(), dsum.end(), dout.begin() + N * C);
  const Tensor dboth = mlp.backward(dout);  // the shared weights accumulate both halves
  const Scalar* davg = dboth.data();
  const Scalar* dmax = dboth.data() + N * C;
  Tensor dx(x_.shape());
  if (naive_) {
    channel_scale_forward(dy.data(), s_.data(), dx.data(), N, C, L);         // dy * s
    global_avg_pool_backward_add(davg, dx.data(), N, C, L);                  // + davg / L
    global_max_pool_backward_add(dmax, argmax_.data(), dx.data(), N, C, L);  // + dmax at winner
  } else {
    channel_gate_backward_fused(dy.data(), s_.data(), davg, dmax, argmax_.data(), dx.data(), N, C,
                                L);
  }
  return dx;
}
//! [channel-gate-backward]

std::string ChannelGate::repr() const {
  return "ChannelGate(" + std::to_string(C_) + ", reduction=" + std::to_string(r_) + ")";
}

double ChannelGate::flops() const {
  return Module::flops() + 3.0 * double(x_.size());
}

namespace {
std::size_t checked_kernel(std::size_t k) {
  if (k == 0 || k % 2 == 0) {
    throw Error("SpatialGate(kernel_size=" + std::to_string(k) +
                "): expected an odd kernel size (7 in the paper) so that padding k/2 keeps H x W");
  }
  return k;
}
}  // namespace

SpatialGate::SpatialGate(std::size_t kernel_size) : k_(checked_kernel(kernel_size)) {
  auto conv = std::make_unique<Conv2d>(Conv2dOptions(2, 1, k_).padding(k_ / 2).bias(false));
  conv_ = conv.get();
  spatial.add("conv", std::move(conv));
  spatial.add("bn", std::make_unique<BatchNorm2d>(1, 1e-5, 0.01));  // the official momentum
  register_module("spatial", &spatial);
  register_module("gate", &gate);
}

void SpatialGate::set_naive(bool on) {
  naive_ = on;
  conv_->set_algorithm(on ? ConvAlgo::Naive : ConvAlgo::Auto);
}

//! [spatial-gate-forward]
Tensor SpatialGate::forward(const Tensor& x) {
  const Shape sh = shape_of(x);
  const std::size_t N = sh[0], C = sh[1], L = sh[2] * sh[3];
  Tensor pooled = zeros({N, 2, sh[2], sh[3]});  // channel 0: max over c, channel 1: mean
  argmax_.resize(N * L);
  if (naive_) {
    channel_max_mean_pool(x.data(), pooled.data(), argmax_.data(), N, C, L);
  } else {
    channel_max_mean_pool_fused(x.data(), pooled.data(), argmax_.data(), N, C, L);
  }
  m_ = gate.forward(spatial.forward(pooled));  // (N, 1, H, W)
  Tensor y(x.shape());
  spatial_scale_forward(x.data(), m_.data(), y.data(), N, C, L);
  x_ = x;
  return y;
}
//! [spatial-gate-forward]

//! [spatial-gate-backward]
Tensor SpatialGate::backward(const Tensor& dy) {
  check_block_grad(*this, dy, x_);
  const Shape sh = shape_of(x_);
  const std::size_t N = sh[0], C = sh[1], L = sh[2] * sh[3];
  Tensor dm = zeros({N, 1, sh[2], sh[3]});
  spatial_scale_grad(x_.data(), dy.data(), dm.data(), N, C, L);  // y = x * m: dm = sum_c dy x
  const Tensor dpooled = spatial.backward(gate.backward(dm));    // (N, 2, H, W)
  Tensor dx(x_.shape());
  if (naive_) {
    spatial_scale_forward(dy.data(), m_.data(), dx.data(), N, C, L);  // dy * m
    channel_max_mean_pool_backward_add(dpooled.data(), argmax_.data(), dx.data(), N, C, L);
  } else {
    spatial_gate_backward_fused(dy.data(), m_.data(), dpooled.data(), argmax_.data(), dx.data(), N,
                                C, L);
  }
  return dx;
}
//! [spatial-gate-backward]

std::string SpatialGate::repr() const {
  return "SpatialGate(kernel_size=" + std::to_string(k_) + ")";
}

double SpatialGate::flops() const {
  return Module::flops() + 3.0 * double(x_.size());
}

CBAM::CBAM(std::size_t channels, std::size_t reduction, std::size_t kernel_size)
    : channel_gate(channels, reduction), spatial_gate(kernel_size) {
  register_module("ChannelGate", &channel_gate);
  register_module("SpatialGate", &spatial_gate);
}

//! [cbam]
Tensor CBAM::forward(const Tensor& x) {
  return spatial_gate.forward(channel_gate.forward(x));
}

Tensor CBAM::backward(const Tensor& dy) {
  return channel_gate.backward(spatial_gate.backward(dy));
}
//! [cbam]

std::string CBAM::repr() const {
  return "CBAM(" + std::to_string(channel_gate.channels()) +
         ", reduction=" + std::to_string(channel_gate.reduction()) +
         ", kernel_size=" + std::to_string(spatial_gate.kernel_size()) + ")";
}

void CBAM::set_naive(bool on) {
  channel_gate.set_naive(on);
  spatial_gate.set_naive(on);
}

}  // namespace convbook
