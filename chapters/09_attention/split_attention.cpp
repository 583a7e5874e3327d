/// @file split_attention.cpp
/// @brief ResNeSt's split attention: the official SplAtConv2d forward, and its backward by hand.
#include "chapters/09_attention/split_attention.hpp"

#include "chapters/09_attention/rsoftmax.hpp"
#include "chapters/09_attention/sk_select.hpp"
#include "convbook/error.hpp"

namespace convbook {

void SplitAttentionOptions::validate() const {
  const std::string where = "SplitAttention(" + std::to_string(in_) + ", " +
                            std::to_string(channels_) + ", radix=" + std::to_string(radix_) +
                            ", cardinality=" + std::to_string(cardinality_) + "): ";
  if (in_ == 0 || channels_ == 0) throw Error(where + "channel counts must be at least 1");
  if (kernel_ == 0) throw Error(where + "kernel_size=0, expected at least 1");
  if (stride_ == 0) throw Error(where + "stride=0, expected at least 1");
  if (radix_ == 0) throw Error(where + "radix=0, expected at least 1 (1: a sigmoid gate)");
  if (cardinality_ == 0) throw Error(where + "cardinality=0, expected at least 1");
  if (reduction_ == 0) throw Error(where + "reduction_factor=0, expected at least 1");
  const std::size_t GR = cardinality_ * radix_;
  if (in_ % GR != 0) {
    throw Error(where + "the convolution has cardinality * radix = " + std::to_string(GR) +
                " groups, which must divide in_channels=" + std::to_string(in_));
  }
  if (channels_ % cardinality_ != 0 || inter_channels() % cardinality_ != 0) {
    throw Error(where +
                "fc1 and fc2 have cardinality groups, so cardinality must divide "
                "channels=" +
                std::to_string(channels_) +
                " and inter_channels=" + std::to_string(inter_channels()));
  }
}

namespace {
const SplitAttentionOptions& validated(const SplitAttentionOptions& o) {
  o.validate();
  return o;
}
}  // namespace

SplitAttention::SplitAttention(const SplitAttentionOptions& options)
    : options_(validated(options)),
      conv(Conv2dOptions(options.in_channels(), options.channels() * options.radix(),
                         options.kernel_size())
               .stride(options.stride())
               .padding(options.padding())
               .groups(options.cardinality() * options.radix())
               .bias(false)),
      bn0(options.channels() * options.radix()),
      fc1(Conv2dOptions(options.channels(), options.inter_channels(), 1)
              .groups(options.cardinality())),
      bn1(options.inter_channels()),
      fc2(Conv2dOptions(options.inter_channels(), options.channels() * options.radix(), 1)
              .groups(options.cardinality())) {
  // state_dict order as the official module: conv, bn0, fc1, bn1, fc2.
  register_module("conv", &conv);
  register_module("bn0", &bn0);
  register_module("relu", &relu);
  register_module("gap", &gap);
  register_module("fc1", &fc1);
  register_module("bn1", &bn1);
  register_module("relu1", &relu1);
  register_module("fc2", &fc2);
}

//! [splat-forward]
Tensor SplitAttention::forward(const Tensor& x) {
  const Shape s = shape_of(x);
  if (s[1] != options_.in_channels()) {
    throw Error(repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(options_.in_channels()));
  }
  const std::size_t R = options_.radix(), G = options_.cardinality();
  const std::size_t Cg = options_.channels() / G;
  // split: one convolution with G R groups makes all R K channels at once
  u_ = relu.forward(bn0.forward(conv.forward(x)));  // (N, R K, P, Q), split r = [r K, r K + K)
  // fuse: sum the splits, pool, squeeze to I, expand to one logit per split and channel
  const Tensor s_pooled = gap.forward(sum_splits(u_, R));  // (N, K, 1, 1)
  const Tensor z = fc2.forward(relu1.forward(bn1.forward(fc1.forward(s_pooled))));
  // select: r-softmax across the R splits of each channel (sigmoid when R = 1)
  a_ = zeros(shape_of(z));
  rsoftmax_forward(z.data(), a_.data(), s[0], G, R, Cg);
  Tensor v = weighted_sum_splits(u_, a_, R);
  out_shape_ = shape_of(v);
  return v;
}
//! [splat-forward]

//! [splat-backward]
Tensor SplitAttention::backward(const Tensor& dy) {
  if (shape_of(dy) != out_shape_ || numel(out_shape_) == 0) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  const std::size_t R = options_.radix(), G = options_.cardinality();
  // select, backwards
  Tensor du, da;
  weighted_sum_splits_backward(u_, a_, dy, R, du, da);
  Tensor dz = zeros(shape_of(a_));
  rsoftmax_backward(a_.data(), da.data(), dz.data(), out_shape_[0], G, R, options_.channels() / G);
  // fuse, backwards: the attention MLP, the pool, then the sum copies ds to every split,
  // on top of what each split got from the select
  const Tensor ds = fc1.backward(bn1.backward(relu1.backward(fc2.backward(dz))));
  du += broadcast_to_splits(gap.backward(ds), R);
  // split, backwards: one convolution made every split
  return conv.backward(bn0.backward(relu.backward(du)));
}
//! [splat-backward]

std::string SplitAttention::repr() const {
  const SplitAttentionOptions& o = options_;
  return "SplitAttention(" + std::to_string(o.in_channels()) + ", " + std::to_string(o.channels()) +
         ", kernel_size=" + std::to_string(o.kernel_size()) +
         ", stride=" + std::to_string(o.stride()) + ", padding=" + std::to_string(o.padding()) +
         ", radix=" + std::to_string(o.radix()) +
         ", cardinality=" + std::to_string(o.cardinality()) +
         ", inter_channels=" + std::to_string(o.inter_channels()) + ")";
}

double SplitAttention::flops() const {
  return Module::flops() + 3.0 * double(numel(out_shape_)) * double(options_.radix());
}

}  // namespace convbook
