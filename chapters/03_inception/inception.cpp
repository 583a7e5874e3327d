#include "chapters/03_inception/inception.hpp"

#include <memory>
#include <utility>

#include "convbook/error.hpp"
#include "convbook/layers/concat.hpp"

namespace convbook {

namespace {

std::size_t checked_kernel(std::size_t in, std::size_t out, std::size_t kernel) {
  if (in == 0 || out == 0 || kernel == 0 || kernel % 2 == 0) {
    throw Error("BasicConv2d(" + std::to_string(in) + ", " + std::to_string(out) +
                ", kernel_size=" + std::to_string(kernel) +
                "): expected channel counts of at least 1 and an odd kernel size (padding "
                "kernel_size / 2 keeps H x W only for odd kernels)");
  }
  return kernel;
}

}  // namespace

BasicConv2d::BasicConv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
                         double bn_eps)
    : conv(Conv2dOptions(in_channels, out_channels,
                         checked_kernel(in_channels, out_channels, kernel))
               .padding(kernel / 2)
               .bias(false)),
      bn(out_channels, bn_eps) {
  register_module("conv", &conv);
  register_module("bn", &bn);
  register_module("relu", &relu);
}

Tensor BasicConv2d::forward(const Tensor& x) {
  return relu.forward(bn.forward(conv.forward(x)));
}

Tensor BasicConv2d::backward(const Tensor& dy) {
  return conv.backward(bn.backward(relu.backward(dy)));
}

std::string BasicConv2d::repr() const {
  const Conv2dOptions& o = conv.options();
  return "BasicConv2d(" + std::to_string(o.in_channels()) + ", " +
         std::to_string(o.out_channels()) + ", kernel_size=" + std::to_string(o.kernel_size().h) +
         ")";
}

void ParallelConcat::add_branch(const std::string& name, Module* branch) {
  register_module(name, branch);
  branches_.push_back(branch);
}

//! [parallel-forward]
Tensor ParallelConcat::forward(const Tensor& x) {
  const Shape s = shape_of(x);
  if (s[1] != in_channels_) {
    throw Error(repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(in_channels_));
  }
  std::vector<Tensor> outputs;  // every branch reads the same x
  for (Module* branch : branches_) outputs.push_back(branch->forward(x));
  std::vector<const Tensor*> parts;
  branch_channels_.clear();
  for (const Tensor& y : outputs) {
    parts.push_back(&y);
    branch_channels_.push_back(y.shape()[1]);  // where backward will cut dy
  }
  Tensor y = concat_channels(parts);
  out_shape_ = shape_of(y);
  return y;
}
//! [parallel-forward]

//! [parallel-backward]
Tensor ParallelConcat::backward(const Tensor& dy) {
  if (shape_of(dy) != out_shape_ || numel(out_shape_) == 0) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  // The concat copied each branch's output into its own channels: cut dy there.
  const std::vector<Tensor> dparts = split_channels(dy, branch_channels_);
  // x fed every branch, so dL/dx is the sum of what each branch sends back.
  Tensor dx = branches_[0]->backward(dparts[0]);
  for (std::size_t i = 1; i < branches_.size(); ++i) dx += branches_[i]->backward(dparts[i]);
  return dx;
}
//! [parallel-backward]

void InceptionOptions::validate(bool reductions) const {
  const std::string where =
      "Inception(" + std::to_string(in_) + ", ch1x1=" + std::to_string(ch1x1_) +
      ", ch3x3red=" + std::to_string(ch3x3red_) + ", ch3x3=" + std::to_string(ch3x3_) +
      ", ch5x5red=" + std::to_string(ch5x5red_) + ", ch5x5=" + std::to_string(ch5x5_) +
      ", pool_proj=" + std::to_string(pool_proj_) + "): ";
  std::vector<std::pair<const char*, std::size_t>> widths = {
      {"in_channels", in_}, {"ch1x1", ch1x1_}, {"ch3x3", ch3x3_}, {"ch5x5", ch5x5_}};
  if (reductions) {
    widths.insert(widths.end(),
                  {{"ch3x3red", ch3x3red_}, {"ch5x5red", ch5x5red_}, {"pool_proj", pool_proj_}});
  }
  for (const auto& [name, value] : widths) {
    if (value == 0) {
      throw Error(where + name + "=0, expected at least 1 channel" +
                  (reductions ? "" : " (the naive block, fig. 2a)"));
    }
  }
}

namespace {
const InceptionOptions& validated(const InceptionOptions& o, bool reductions) {
  o.validate(reductions);
  return o;
}
}  // namespace

//! [inception-branches]
Inception::Inception(const InceptionOptions& options)
    : ParallelConcat(options.in_channels()),
      options_(validated(options, true)),
      branch1(options.in_channels(), options.ch1x1(), 1) {
  const std::size_t C = options.in_channels();
  // The 1x1 reductions: cross-channel mixing that shrinks C before the costly spatial kernels.
  branch2.emplace<BasicConv2d>(C, options.ch3x3red(), 1);
  branch2.emplace<BasicConv2d>(options.ch3x3red(), options.ch3x3(), 3);
  branch3.emplace<BasicConv2d>(C, options.ch5x5red(), 1);
  branch3.emplace<BasicConv2d>(options.ch5x5red(), options.ch5x5(), 5);
  // The pool keeps all C channels; the 1x1 after it chooses how many to pass on.
  branch4.emplace<MaxPool2d>(3, 1, 1);
  branch4.emplace<BasicConv2d>(C, options.pool_proj(), 1);
  add_branch("branch1", &branch1);
  add_branch("branch2", &branch2);
  add_branch("branch3", &branch3);
  add_branch("branch4", &branch4);
}
//! [inception-branches]

std::string Inception::repr() const {
  const InceptionOptions& o = options_;
  return "Inception(" + std::to_string(o.in_channels()) + ", ch1x1=" + std::to_string(o.ch1x1()) +
         ", ch3x3red=" + std::to_string(o.ch3x3red()) + ", ch3x3=" + std::to_string(o.ch3x3()) +
         ", ch5x5red=" + std::to_string(o.ch5x5red()) + ", ch5x5=" + std::to_string(o.ch5x5()) +
         ", pool_proj=" + std::to_string(o.pool_proj()) + ")";
}

InceptionNaive::InceptionNaive(const InceptionOptions& options)
    : ParallelConcat(options.in_channels()),
      options_(validated(options, false)),
      branch1(options.in_channels(), options.ch1x1(), 1),
      branch2(options.in_channels(), options.ch3x3(), 3),
      branch3(options.in_channels(), options.ch5x5(), 5),
      branch4(3, 1, 1) {
  add_branch("branch1", &branch1);
  add_branch("branch2", &branch2);
  add_branch("branch3", &branch3);
  add_branch("branch4", &branch4);
}

std::string InceptionNaive::repr() const {
  const InceptionOptions& o = options_;
  return "InceptionNaive(" + std::to_string(o.in_channels()) +
         ", ch1x1=" + std::to_string(o.ch1x1()) + ", ch3x3=" + std::to_string(o.ch3x3()) +
         ", ch5x5=" + std::to_string(o.ch5x5()) + ")";
}

}  // namespace convbook
