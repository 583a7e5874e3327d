/// @file selective_kernel.cpp
/// @brief SK convolution: split, fuse, select, and the same steps reversed for backward.
#include "chapters/09_attention/selective_kernel.hpp"

#include <memory>
#include <vector>

#include "chapters/09_attention/rsoftmax.hpp"
#include "chapters/09_attention/sk_select.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"

namespace convbook {

void SelectiveKernelOptions::validate() const {
  const std::string where =
      "SelectiveKernel(" + std::to_string(in_) + ", " + std::to_string(out_) + "): ";
  if (in_ == 0 || out_ == 0) throw Error(where + "channel counts must be at least 1");
  if (branches_ < 2) {
    throw Error(where + "branches=" + std::to_string(branches_) +
                ", expected at least 2 (the softmax selects among branches)");
  }
  if (groups_ == 0 || in_ % groups_ != 0 || out_ % groups_ != 0) {
    throw Error(where + "groups=" + std::to_string(groups_) +
                ", expected a divisor of in_channels and out_channels");
  }
  if (reduction_ == 0) throw Error(where + "reduction=0, expected at least 1");
  if (min_dim_ == 0) throw Error(where + "min_dim=0, expected at least 1");
  if (stride_ == 0) throw Error(where + "stride=0, expected at least 1");
}

namespace {
const SelectiveKernelOptions& validated(const SelectiveKernelOptions& o) {
  o.validate();
  return o;
}
}  // namespace

SelectiveKernel::SelectiveKernel(const SelectiveKernelOptions& options)
    : options_(validated(options)) {
  const std::size_t C = options.in_channels(), K = options.out_channels(), d = options.dim();
  for (std::size_t m = 0; m < options.branches(); ++m) {
    auto branch = std::make_unique<Sequential>();
    const std::size_t dilation = m + 1;  // 3x3, 5x5, 7x7 receptive fields at 3x3's cost
    branch->emplace<Conv2d>(Conv2dOptions(C, K, 3)
                                .stride(options.stride())
                                .padding(dilation)
                                .dilation(dilation)
                                .groups(options.groups())
                                .bias(false));
    branch->emplace<BatchNorm2d>(K);
    branch->emplace<ReLU>();
    convs.push_back(std::move(branch));
    fcs.emplace<Conv2d>(Conv2dOptions(d, K, 1));  // an FC on (N, d, 1, 1), with bias
  }
  fc.emplace<Conv2d>(Conv2dOptions(K, d, 1).bias(false));  // BN follows: no bias
  fc.emplace<BatchNorm2d>(d);
  fc.emplace<ReLU>();
  register_module("convs", &convs);
  register_module("gap", &gap);
  register_module("fc", &fc);
  register_module("fcs", &fcs);
}

//! [sk-forward]
Tensor SelectiveKernel::forward(const Tensor& x) {
  const Shape s = shape_of(x);
  if (s[1] != options_.in_channels()) {
    throw Error(repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(options_.in_channels()));
  }
  const std::size_t M = options_.branches(), K = options_.out_channels();
  // split: every branch sees the same x with a different dilation
  std::vector<Tensor> branches;
  for (std::size_t m = 0; m < M; ++m) branches.push_back(convs[m].forward(x));
  u_ = stack_splits(branches);  // (N, M K, P, Q)
  // fuse: one descriptor per image from the sum of the branches
  const Tensor z = fc.forward(gap.forward(sum_splits(u_, M)));  // (N, d, 1, 1)
  // select: per-branch logits, softmax across branches for every channel
  std::vector<Tensor> logits;
  for (std::size_t m = 0; m < M; ++m) logits.push_back(fcs[m].forward(z));
  const Tensor stacked = stack_splits(logits);  // (N, M K, 1, 1)
  a_ = zeros(shape_of(stacked));
  rsoftmax_forward(stacked.data(), a_.data(), s[0], 1, M, K);
  Tensor v = weighted_sum_splits(u_, a_, M);
  out_shape_ = shape_of(v);
  return v;
}
//! [sk-forward]

//! [sk-backward]
Tensor SelectiveKernel::backward(const Tensor& dy) {
  if (shape_of(dy) != out_shape_ || numel(out_shape_) == 0) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  const std::size_t M = options_.branches(), K = options_.out_channels();
  // select, backwards: V = sum_m a_m U_m sends a_m dV to U_m and sum_hw dV U_m to a_m
  Tensor du, da;
  weighted_sum_splits_backward(u_, a_, dy, M, du, da);
  Tensor dlogits = zeros(shape_of(a_));
  rsoftmax_backward(a_.data(), da.data(), dlogits.data(), out_shape_[0], 1, M, K);
  // z fed all M logit FCs: its gradient is the sum of theirs
  const std::vector<Tensor> dl = unstack_splits(dlogits, M);
  Tensor dz = fcs[0].backward(dl[0]);
  for (std::size_t m = 1; m < M; ++m) dz += fcs[m].backward(dl[m]);
  // fuse, backwards: FC-BN-ReLU, then the pool spreads ds over P x Q, then the sum copies it
  // to every branch, on top of the gradient each branch got from the select
  du += broadcast_to_splits(gap.backward(fc.backward(dz)), M);
  // split, backwards: x fed every branch, so dx sums the branches' input gradients
  const std::vector<Tensor> dus = unstack_splits(du, M);
  Tensor dx = convs[0].backward(dus[0]);
  for (std::size_t m = 1; m < M; ++m) dx += convs[m].backward(dus[m]);
  return dx;
}
//! [sk-backward]

std::string SelectiveKernel::repr() const {
  const SelectiveKernelOptions& o = options_;
  return "SelectiveKernel(" + std::to_string(o.in_channels()) + ", " +
         std::to_string(o.out_channels()) + ", branches=" + std::to_string(o.branches()) +
         ", groups=" + std::to_string(o.groups()) + ", dim=" + std::to_string(o.dim()) +
         ", stride=" + std::to_string(o.stride()) + ")";
}

double SelectiveKernel::flops() const {
  return Module::flops() + 3.0 * double(numel(out_shape_)) * double(options_.branches());
}

}  // namespace convbook
