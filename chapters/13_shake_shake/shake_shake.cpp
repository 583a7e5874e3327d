#include "chapters/13_shake_shake/shake_shake.hpp"

#include <cmath>
#include <utility>

#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/concat.hpp"
#include "convbook/random.hpp"

namespace convbook {

std::string ShakeOptions::name() const {
  const char* f = forward == ShakeForward::Shake ? "Shake" : "Even";
  const char* b = backward == ShakeBackward::Shake  ? "Shake"
                  : backward == ShakeBackward::Keep ? "Keep"
                                                    : "Even";
  return std::string(f) + "-" + b + "-" + (level == ShakeLevel::Image ? "Image" : "Batch");
}

//! [shake-mix]
template <typename T>
void shake_mix_forward(const T* b1, const T* b2, const T* alpha, T* y, std::size_t N,
                       std::size_t M) {
  for (std::size_t n = 0; n < N; ++n) {
    const T a = alpha[n];  // one coefficient for all M values of image n
    for (std::size_t i = n * M; i < (n + 1) * M; ++i) y[i] = a * b1[i] + (T(1) - a) * b2[i];
  }
}

template <typename T>
void shake_mix_backward(const T* dy, const T* beta, T* db1, T* db2, std::size_t N,
                        std::size_t M) {
  for (std::size_t n = 0; n < N; ++n) {
    const T b = beta[n];  // alpha would give the true gradient; Shake-Shake uses a fresh beta
    for (std::size_t i = n * M; i < (n + 1) * M; ++i) {
      db1[i] = b * dy[i];
      db2[i] = (T(1) - b) * dy[i];
    }
  }
}
//! [shake-mix]

template void shake_mix_forward<float>(const float*, const float*, const float*, float*,
                                       std::size_t, std::size_t);
template void shake_mix_forward<double>(const double*, const double*, const double*, double*,
                                        std::size_t, std::size_t);
template void shake_mix_backward<float>(const float*, const float*, float*, float*, std::size_t,
                                        std::size_t);
template void shake_mix_backward<double>(const double*, const double*, double*, double*,
                                         std::size_t, std::size_t);

//! [shifted-subsample]
Tensor shifted_subsample(const Tensor& x, std::size_t stride, std::size_t offset) {
  const Shape s = shape_of(x);
  const std::size_t N = s[0], C = s[1], H = s[2], W = s[3];
  const std::size_t P = (H + stride - 1) / stride, Q = (W + stride - 1) / stride;
  Tensor y = zeros({N, C, P, Q});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t q = 0; q < Q; ++q) {
          const std::size_t h = p * stride + offset, w = q * stride + offset;
          if (h < H && w < W) y(n, c, p, q) = x(n, c, h, w);  // else the padded zero
        }
  return y;
}

Tensor shifted_subsample_backward(const Tensor& dy, const Shape& in_shape, std::size_t stride,
                                  std::size_t offset) {
  const Shape s = shape_of(dy);
  Tensor dx = zeros(in_shape);
  for (std::size_t n = 0; n < s[0]; ++n)
    for (std::size_t c = 0; c < s[1]; ++c)
      for (std::size_t p = 0; p < s[2]; ++p)
        for (std::size_t q = 0; q < s[3]; ++q) {
          const std::size_t h = p * stride + offset, w = q * stride + offset;
          if (h < in_shape[2] && w < in_shape[3]) dx(n, c, h, w) = dy(n, c, p, q);
        }
  return dx;
}
//! [shifted-subsample]

namespace {

std::string sizes(std::size_t C, std::size_t K, std::size_t stride) {
  return std::to_string(C) + ", " + std::to_string(K) + ", stride=" + std::to_string(stride);
}

// Checked before any member is built: the shortcut's conv1 is the first.
Conv2dOptions shortcut_half_conv(std::size_t C, std::size_t K, std::size_t stride) {
  if (C == 0 || K == 0 || stride == 0) {
    throw Error("ShakeShortcut(" + sizes(C, K, stride) + "): every size must be at least 1");
  }
  if (K % 2 != 0) {
    throw Error("ShakeShortcut(" + sizes(C, K, stride) + "): out_channels must be even (each of "
                "the two paths gives out_channels / 2)");
  }
  return conv1x1(C, K / 2);
}

}  // namespace

ShakeShortcut::ShakeShortcut(std::size_t in_channels, std::size_t out_channels,
                             std::size_t stride)
    : conv1(shortcut_half_conv(in_channels, out_channels, stride)),
      conv2(conv1x1(in_channels, out_channels / 2)),
      bn(out_channels),
      C_(in_channels),
      K_(out_channels),
      stride_(stride) {
  register_module("conv1", &conv1);
  register_module("conv2", &conv2);
  register_module("bn", &bn);
}

//! [shake-shortcut]
Tensor ShakeShortcut::forward(const Tensor& x) {
  in_shape_ = shape_of(x);
  const Tensor r = relu.forward(x);
  // Path 1 sees the pixels (s p, s q), path 2 the pixels (s p + 1, s q + 1): together they
  // cover more of the image than one strided 1x1 convolution would.
  const Tensor y1 = conv1.forward(shifted_subsample(r, stride_, 0));
  const Tensor y2 = conv2.forward(shifted_subsample(r, stride_, 1));
  return bn.forward(concat_channels({&y1, &y2}));
}

Tensor ShakeShortcut::backward(const Tensor& dy) {
  const std::vector<Tensor> d = split_channels(bn.backward(dy), {K_ / 2, K_ / 2});
  // r fed both paths: its gradient is the sum of what each path sends back.
  Tensor dr = shifted_subsample_backward(conv1.backward(d[0]), in_shape_, stride_, 0);
  add_into(dr, shifted_subsample_backward(conv2.backward(d[1]), in_shape_, stride_, 1));
  return relu.backward(dr);
}
//! [shake-shortcut]

std::string ShakeShortcut::repr() const { return "ShakeShortcut(" + sizes(C_, K_, stride_) + ")"; }

//! [shake-branch]
std::unique_ptr<Sequential> shake_branch(std::size_t in_channels, std::size_t out_channels,
                                         std::size_t stride) {
  auto b = std::make_unique<Sequential>();
  b->add("relu_in", std::make_unique<ReLU>());  // pre-activation: the sum is not rectified
  b->add("conv1", std::make_unique<Conv2d>(conv3x3(in_channels, out_channels, stride)));
  b->add("bn1", std::make_unique<BatchNorm2d>(out_channels));
  b->add("relu", std::make_unique<ReLU>());
  b->add("conv2", std::make_unique<Conv2d>(conv3x3(out_channels, out_channels)));
  b->add("bn2", std::make_unique<BatchNorm2d>(out_channels));
  return b;
}
//! [shake-branch]

namespace {

std::unique_ptr<Sequential> checked_branch(std::size_t C, std::size_t K, std::size_t stride) {
  if (C == 0 || K == 0 || stride == 0) {
    throw Error("ShakeShakeBlock(" + sizes(C, K, stride) + "): every size must be at least 1");
  }
  return shake_branch(C, K, stride);
}

}  // namespace

ShakeShakeBlock::ShakeShakeBlock(std::size_t in_channels, std::size_t out_channels,
                                 std::size_t stride, ShakeOptions options)
    : residual_path1(checked_branch(in_channels, out_channels, stride)),
      residual_path2(shake_branch(in_channels, out_channels, stride)),
      C_(in_channels),
      K_(out_channels),
      stride_(stride),
      options_(options) {
  // The official code adds the shortcut only where the width changes; the stride changes with
  // it in every Shake-Shake network, and a stride alone needs it too.
  if (stride != 1 || in_channels != out_channels) {
    shortcut_ = std::make_unique<ShakeShortcut>(in_channels, out_channels, stride);
  }
  register_module("residual_path1", residual_path1.get());
  register_module("residual_path2", residual_path2.get());
  if (shortcut_) register_module("shortcut", shortcut_.get());
}

void ShakeShakeBlock::set_coefficients(std::vector<double> alpha, std::vector<double> beta) {
  if (alpha.empty() || alpha.size() != beta.size()) {
    throw Error(repr() + ": set_coefficients got " + std::to_string(alpha.size()) +
                " alphas and " + std::to_string(beta.size()) +
                " betas, expected the same number (one per image), at least 1");
  }
  for (const std::vector<double>* v : {&alpha, &beta}) {
    for (double c : *v) {
      if (!(c >= 0 && c <= 1)) {
        throw Error(repr() + ": set_coefficients got " + std::to_string(c) +
                    ", expected every alpha and beta in [0, 1]");
      }
    }
  }
  fixed_alpha_ = std::move(alpha);
  fixed_beta_ = std::move(beta);
}

void ShakeShakeBlock::clear_coefficients() {
  fixed_alpha_.clear();
  fixed_beta_.clear();
}

//! [shake-coefficients]
void ShakeShakeBlock::choose_coefficients(std::size_t N) {
  if (!training_) {  // evaluation: the expected value of U(0, 1), as the paper's test time
    alpha_.assign(N, Scalar(0.5));
    beta_ = alpha_;
    return;
  }
  if (!fixed_alpha_.empty()) {
    if (fixed_alpha_.size() != N) {
      throw Error(repr() + ": set_coefficients gave " + std::to_string(fixed_alpha_.size()) +
                  " values but the batch has " + std::to_string(N) + " images");
    }
    alpha_.assign(fixed_alpha_.begin(), fixed_alpha_.end());
    beta_.assign(fixed_beta_.begin(), fixed_beta_.end());
    return;
  }
  // Image level: N independent draws; Batch level: one draw shared by the N images.
  const std::size_t draws = options_.level == ShakeLevel::Image ? N : 1;
  Rng& rng = global_rng();
  alpha_.resize(N);
  beta_.resize(N);
  for (std::size_t i = 0; i < draws; ++i)
    alpha_[i] = options_.forward == ShakeForward::Shake ? Scalar(rng.uniform()) : Scalar(0.5);
  for (std::size_t i = 0; i < draws; ++i) {
    switch (options_.backward) {
      case ShakeBackward::Shake: beta_[i] = Scalar(rng.uniform()); break;  // independent
      case ShakeBackward::Keep: beta_[i] = alpha_[i]; break;  // the true gradient
      case ShakeBackward::Even: beta_[i] = Scalar(0.5); break;
    }
  }
  for (std::size_t i = draws; i < N; ++i) {
    alpha_[i] = alpha_[0];
    beta_[i] = beta_[0];
  }
}
//! [shake-coefficients]

//! [shake-block]
Tensor ShakeShakeBlock::forward(const Tensor& x) {
  const Tensor b1 = residual_path1->forward(x);
  const Tensor b2 = residual_path2->forward(x);
  Tensor y = shortcut_ ? shortcut_->forward(x) : x;
  if (shape_of(y) != shape_of(b1)) {
    throw Error(repr() + ": the branches give " + to_string(shape_of(b1)) +
                " but the shortcut gives " + to_string(shape_of(y)));
  }
  const std::size_t N = shape_of(x)[0];
  choose_coefficients(N);
  Tensor mix = zeros(shape_of(b1));
  shake_mix_forward(b1.data(), b2.data(), alpha_.data(), mix.data(), N, b1.size() / N);
  add_into(y, mix);
  out_shape_ = shape_of(y);
  return y;
}

Tensor ShakeShakeBlock::backward(const Tensor& dy) {
  if (numel(out_shape_) == 0 || shape_of(dy) != out_shape_) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  const std::size_t N = out_shape_[0];
  Tensor db1 = zeros(out_shape_), db2 = zeros(out_shape_);
  shake_mix_backward(dy.data(), beta_.data(), db1.data(), db2.data(), N, dy.size() / N);
  // x fed three paths; its gradient is the sum of the three. The sum hands dy unchanged to
  // the shortcut, the mix hands beta dy and (1 - beta) dy to the branches.
  Tensor dx = residual_path1->backward(db1);
  add_into(dx, residual_path2->backward(db2));
  if (shortcut_) {
    add_into(dx, shortcut_->backward(dy));
  } else {
    add_into(dx, dy);
  }
  return dx;
}
//! [shake-block]

std::string ShakeShakeBlock::repr() const {
  return "ShakeShakeBlock(" + sizes(C_, K_, stride_) + ", " + options_.name() + ")";
}

}  // namespace convbook
