#include "chapters/10_resnet/resnet_blocks.hpp"

#include <algorithm>
#include <utility>

#include "convbook/conv/conv_bn.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

//! [conv-helpers]
Conv2dOptions conv3x3(std::size_t in_planes, std::size_t out_planes, std::size_t stride,
                      std::size_t groups, std::size_t dilation) {
  // padding = dilation: the dilated 3x3 spans 2 dilation + 1 pixels, so this keeps H x W at
  // stride 1. No bias: the BatchNorm after it subtracts any constant again.
  return Conv2dOptions(in_planes, out_planes, 3)
      .stride(stride)
      .padding(dilation)
      .groups(groups)
      .bias(false)
      .dilation(dilation);
}

Conv2dOptions conv1x1(std::size_t in_planes, std::size_t out_planes, std::size_t stride) {
  return Conv2dOptions(in_planes, out_planes, 1).stride(stride).bias(false);
}

ModulePtr projection_shortcut(std::size_t in_planes, std::size_t out_planes, std::size_t stride) {
  auto proj = std::make_unique<Sequential>();
  proj->emplace<Conv2d>(conv1x1(in_planes, out_planes, stride));  // named "0": downsample.0.*
  proj->emplace<BatchNorm2d>(out_planes);                         // "1": downsample.1.*
  return proj;
}
//! [conv-helpers]

//! [residual-block]
Tensor ResidualBlock::forward(const Tensor& x) {
  Tensor out = residual_forward(x);  // F(x)
  Tensor projected;                  // downsample(x), when the block has one
  if (downsample_) projected = downsample_->forward(x);
  const Tensor& shortcut = downsample_ ? projected : x;  // the identity: x itself, no copy
  if (shape_of(out) != shape_of(shortcut)) {
    throw Error(repr() + ": the residual path gives " + to_string(shape_of(out)) +
                " but the shortcut gives " + to_string(shape_of(shortcut)) +
                "; a block that changes stride or channels needs a downsample");
  }
  out_shape_ = shape_of(out);
  // relu(F(x) + shortcut(x)), the sum and the ReLU in one pass over out's memory
  return relu_out_.forward_sum(std::move(out), shortcut);
}

Tensor ResidualBlock::backward(const Tensor& dy) {
  if (numel(out_shape_) == 0 || shape_of(dy) != out_shape_) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  const Tensor d = relu_out_.backward(dy);  // dL/d(F(x) + shortcut(x))
  // The sum passes d unchanged to both addends; x fed both paths, so dx is the sum of both.
  Tensor dx = residual_backward(d);
  if (downsample_) {
    add_into(dx, downsample_->backward(d));
  } else {
    add_into(dx, d);  // the identity's Jacobian is I: the gradient reaches x undamped
  }
  return dx;
}
//! [residual-block]

void ResidualBlock::register_downsample() {
  if (downsample_) register_module("downsample", downsample_.get());
}

std::string ResidualBlock::downsample_repr() const {
  if (!downsample_) return "";
  // A Sequential's repr spans lines; one line is enough inside a block's.
  if (const auto* seq = dynamic_cast<const Sequential*>(downsample_.get()))
    return ", downsample=Sequential(" + std::to_string(seq->size()) + " layers)";
  return ", downsample=" + downsample_->repr();
}

namespace {

// torchvision checks these in BasicBlock.__init__ before building a layer; so do we, from
// conv1's initializer, the first member built.
Conv2dOptions basic_block_conv1(std::size_t inplanes, std::size_t planes, std::size_t stride,
                                std::size_t groups, std::size_t base_width, std::size_t dilation) {
  if (groups != 1 || base_width != 64) {
    throw Error("BasicBlock only supports groups=1 and base_width=64, got groups=" +
                std::to_string(groups) + " and base_width=" + std::to_string(base_width) +
                " (use Bottleneck for ResNeXt and wide ResNets)");
  }
  if (dilation > 1) {
    throw Error(
        "Dilation > 1 not supported in BasicBlock, got dilation=" + std::to_string(dilation) +
        " (replace_stride_with_dilation needs Bottleneck models, e.g. resnet50)");
  }
  return conv3x3(inplanes, planes, stride);
}

}  // namespace

BasicBlock::BasicBlock(std::size_t inplanes, std::size_t planes, std::size_t stride,
                       ModulePtr downsample, std::size_t groups, std::size_t base_width,
                       std::size_t dilation)
    : ResidualBlock(std::move(downsample)),
      conv1(basic_block_conv1(inplanes, planes, stride, groups, base_width, dilation)),
      bn1(planes),
      conv2(conv3x3(planes, planes)),
      bn2(planes),
      inplanes_(inplanes),
      planes_(planes),
      stride_(stride) {
  register_module("conv1", &conv1);
  register_module("bn1", &bn1);
  register_module("conv2", &conv2);
  register_module("bn2", &bn2);
  register_downsample();
}

//! [basic-block]
Tensor BasicBlock::residual_forward(const Tensor& x) {
  if (inference()) {  // eval under NoGradGuard: each BN folded into its conv (conv_bn.hpp)
    return conv_bn_inference(conv2, bn2, conv_bn_inference(conv1, bn1, x, /*relu=*/true), false);
  }
  // Temporaries all along: conv and BN keep their inputs for backward by move, not by copy.
  Tensor h = relu.forward(bn1.forward(conv1.forward(x)));
  return bn2.forward(conv2.forward(std::move(h)));
}

Tensor BasicBlock::residual_backward(const Tensor& d) {
  Tensor dh = conv2.backward(bn2.backward(d));
  // dh is not needed again: the ReLU gates it in place
  return conv1.backward(bn1.backward(relu.backward(std::move(dh))));
}
//! [basic-block]

std::string BasicBlock::repr() const {
  return "BasicBlock(" + std::to_string(inplanes_) + ", " + std::to_string(planes_) +
         ", stride=" + std::to_string(stride_) + downsample_repr() + ")";
}

//! [bottleneck-width]
std::size_t Bottleneck::width(std::size_t planes, std::size_t base_width, std::size_t groups) {
  // torchvision: int(planes * (base_width / 64.0)) * groups, i.e. base_width channels per group
  // for every 64 "planes": resnet50 (64, 1) keeps width = planes; resnext50_32x4d (4, 32) has
  // 32 groups of 4; wide_resnet50_2 (128, 1) doubles the width.
  return planes * base_width / 64 * groups;
}
//! [bottleneck-width]

namespace {

Conv2dOptions bottleneck_conv1(std::size_t inplanes, std::size_t planes, std::size_t stride,
                               std::size_t groups, std::size_t base_width, std::size_t dilation) {
  const std::string where = "Bottleneck(" + std::to_string(inplanes) + ", " +
                            std::to_string(planes) + ", stride=" + std::to_string(stride) +
                            ", groups=" + std::to_string(groups) +
                            ", base_width=" + std::to_string(base_width) +
                            ", dilation=" + std::to_string(dilation) + "): ";
  if (inplanes == 0 || planes == 0 || stride == 0 || groups == 0 || base_width == 0 ||
      dilation == 0) {
    throw Error(where + "every size must be at least 1");
  }
  if (Bottleneck::width(planes, base_width, groups) == 0) {
    throw Error(where + "width = planes * base_width / 64 * groups is 0, expected >= 1");
  }
  return conv1x1(inplanes, Bottleneck::width(planes, base_width, groups));
}

}  // namespace

Bottleneck::Bottleneck(std::size_t inplanes, std::size_t planes, std::size_t stride,
                       ModulePtr downsample, std::size_t groups, std::size_t base_width,
                       std::size_t dilation)
    : ResidualBlock(std::move(downsample)),
      conv1(bottleneck_conv1(inplanes, planes, stride, groups, base_width, dilation)),
      bn1(width(planes, base_width, groups)),
      conv2(conv3x3(width(planes, base_width, groups), width(planes, base_width, groups), stride,
                    groups, dilation)),
      bn2(width(planes, base_width, groups)),
      conv3(conv1x1(width(planes, base_width, groups), planes * expansion)),
      bn3(planes * expansion),
      inplanes_(inplanes),
      planes_(planes),
      stride_(stride),
      groups_(groups),
      base_width_(base_width),
      dilation_(dilation) {
  register_module("conv1", &conv1);
  register_module("bn1", &bn1);
  register_module("conv2", &conv2);
  register_module("bn2", &bn2);
  register_module("conv3", &conv3);
  register_module("bn3", &bn3);
  register_downsample();
}

//! [bottleneck]
Tensor Bottleneck::residual_forward(const Tensor& x) {
  if (inference()) {  // eval under NoGradGuard: each BN folded into its conv (conv_bn.hpp)
    const Tensor h = conv_bn_inference(conv1, bn1, x, /*relu=*/true);
    return conv_bn_inference(conv3, bn3, conv_bn_inference(conv2, bn2, h, true), false);
  }
  Tensor h = relu1.forward(bn1.forward(conv1.forward(x)));  // 1x1: reduce C -> width
  h = relu2.forward(bn2.forward(conv2.forward(std::move(h))));  // 3x3: stride, groups, dilation
  return bn3.forward(conv3.forward(std::move(h)));              // 1x1: expand width -> 4 planes
}

Tensor Bottleneck::residual_backward(const Tensor& d) {
  Tensor dh = conv3.backward(bn3.backward(d));
  dh = conv2.backward(bn2.backward(relu2.backward(std::move(dh))));  // gated in place
  return conv1.backward(bn1.backward(relu1.backward(std::move(dh))));
}
//! [bottleneck]

std::string Bottleneck::repr() const {
  return "Bottleneck(" + std::to_string(inplanes_) + ", " + std::to_string(planes_) +
         ", stride=" + std::to_string(stride_) +
         ", width=" + std::to_string(width(planes_, base_width_, groups_)) +
         ", groups=" + std::to_string(groups_) + ", dilation=" + std::to_string(dilation_) +
         downsample_repr() + ")";
}

PadShortcut::PadShortcut(std::size_t in_channels, std::size_t out_channels, std::size_t stride)
    : C_(in_channels), K_(out_channels), stride_(stride) {
  if (C_ == 0 || stride_ == 0 || K_ < C_) {
    throw Error("PadShortcut(" + std::to_string(C_) + ", " + std::to_string(K_) +
                ", stride=" + std::to_string(stride_) +
                "): expected in_channels >= 1, stride >= 1 and out_channels >= in_channels "
                "(option A only adds zero channels)");
  }
}

//! [pad-shortcut]
Tensor PadShortcut::forward(const Tensor& x) {
  const Shape s = shape_of(x);
  if (s[1] != C_) {
    throw Error(repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(C_));
  }
  const std::size_t N = s[0], H = s[2], W = s[3];
  const std::size_t P = (H + stride_ - 1) / stride_, Q = (W + stride_ - 1) / stride_;
  const std::size_t pad = (K_ - C_) / 2;  // zero channels before the copied ones
  Tensor y = zeros({N, K_, P, Q});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C_; ++c)
      for (std::size_t p = 0; p < P; ++p)
        for (std::size_t q = 0; q < Q; ++q)
          y(n, pad + c, p, q) = x(n, c, p * stride_, q * stride_);  // x[:, :, ::s, ::s]
  in_shape_ = s;
  out_shape_ = shape_of(y);
  return y;
}

Tensor PadShortcut::backward(const Tensor& dy) {
  if (numel(out_shape_) == 0 || shape_of(dy) != out_shape_) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  const std::size_t pad = (K_ - C_) / 2;
  Tensor dx = zeros(in_shape_);
  // Each copied value goes back where it came from; skipped pixels and padded channels had no
  // path from x, so their share of the gradient is zero.
  for (std::size_t n = 0; n < out_shape_[0]; ++n)
    for (std::size_t c = 0; c < C_; ++c)
      for (std::size_t p = 0; p < out_shape_[2]; ++p)
        for (std::size_t q = 0; q < out_shape_[3]; ++q)
          dx(n, c, p * stride_, q * stride_) = dy(n, pad + c, p, q);
  return dx;
}
//! [pad-shortcut]

std::string PadShortcut::repr() const {
  return "PadShortcut(" + std::to_string(C_) + ", " + std::to_string(K_) +
         ", stride=" + std::to_string(stride_) + ")";
}

}  // namespace convbook
