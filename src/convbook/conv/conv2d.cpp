/// @file conv2d.cpp
/// @brief Conv2d: option checks, shapes, and the dispatch to the naive or im2col kernels.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups.
#include "convbook/conv/conv2d.hpp"

#include <sstream>

#include "convbook/conv/im2col.hpp"
#include "convbook/init.hpp"

namespace convbook {

namespace {
std::string str(const Pair& p) {
  return "(" + std::to_string(p.h) + ", " + std::to_string(p.w) + ")";
}

void require_positive(const char* name, const Pair& p) {
  if (p.h == 0 || p.w == 0) {
    throw Error(std::string("Conv2d: ") + name + "=" + str(p) + " must be >= 1 in both dimensions");
  }
}
}  // namespace

void Conv2dOptions::validate() const {
  if (in_channels_ == 0) throw Error("Conv2d: in_channels=0, expected >= 1");
  if (out_channels_ == 0) throw Error("Conv2d: out_channels=0, expected >= 1");
  require_positive("kernel_size", kernel_size_);
  require_positive("stride", stride_);
  require_positive("dilation", dilation_);
  if (groups_ == 0) throw Error("Conv2d: groups=0, expected >= 1");
  if (in_channels_ % groups_ != 0) {
    throw Error("Conv2d: groups=" + std::to_string(groups_) +
                " must divide in_channels=" + std::to_string(in_channels_));
  }
  if (out_channels_ % groups_ != 0) {
    throw Error("Conv2d: groups=" + std::to_string(groups_) +
                " must divide out_channels=" + std::to_string(out_channels_));
  }
}

Conv2d::Conv2d(const Conv2dOptions& options) : options_(options) {
  options_.validate();
  const std::size_t K = options_.out_channels(), Cg = options_.in_channels() / options_.groups();
  weight = Parameter::make({K, Cg, options_.kernel_size().h, options_.kernel_size().w});
  // fan_out = K*R*S keeps the variance of the backward signal at 2/(K*R*S) (He et al. 2015),
  // torchvision's choice for ResNets.
  kaiming_normal_(weight, FanMode::FanOut);
  register_parameter("weight", &weight);
  if (options_.bias()) {
    bias = Parameter::make({K});  // zero, as torchvision's ResNet init leaves it
    register_parameter("bias", &bias);
  }
}

ConvGeometry Conv2d::geometry(const Shape& input) const {
  const Conv2dOptions& o = options_;
  if (input[1] != o.in_channels()) {
    throw Error("Conv2d: input " + to_string(input) + " has " + std::to_string(input[1]) +
                " channels, expected in_channels=" + std::to_string(o.in_channels()));
  }
  const Pair& k = o.kernel_size();
  const std::size_t span_h = o.dilation().h * (k.h - 1) + 1,
                    span_w = o.dilation().w * (k.w - 1) + 1;
  const std::size_t padded_h = input[2] + 2 * o.padding().h,
                    padded_w = input[3] + 2 * o.padding().w;
  if (span_h > padded_h || span_w > padded_w) {
    throw Error("Conv2d: effective kernel (dilation*(kernel-1)+1) = (" + std::to_string(span_h) +
                ", " + std::to_string(span_w) + ") is larger than the padded input (H+2*padding, " +
                "W+2*padding) = (" + std::to_string(padded_h) + ", " + std::to_string(padded_w) +
                ") of input " + to_string(input) + "; expected it to fit");
  }
  ConvGeometry g;
  g.N = int(input[0]);
  g.C = int(input[1]);
  g.H = int(input[2]);
  g.W = int(input[3]);
  g.K = int(o.out_channels());
  g.R = int(k.h);
  g.S = int(k.w);
  g.stride_h = int(o.stride().h);
  g.stride_w = int(o.stride().w);
  g.pad_h = int(o.padding().h);
  g.pad_w = int(o.padding().w);
  g.dil_h = int(o.dilation().h);
  g.dil_w = int(o.dilation().w);
  g.G = int(o.groups());
  return g;
}

Shape Conv2d::output_shape(const Shape& input) const {
  const ConvGeometry g = geometry(input);
  return {input[0], options_.out_channels(), std::size_t(g.P()), std::size_t(g.Q())};
}

Tensor Conv2d::forward(const Tensor& x) {
  if (x.dimension() != 4) {
    throw Error("Conv2d: input has " + std::to_string(x.dimension()) +
                " dimensions, expected 4 (N, C, H, W)");
  }
  const Shape in = shape_of(x);
  last_ = geometry(in);
  Tensor y = zeros(output_shape(in));
  const Scalar* b = options_.bias() ? bias.value.data() : nullptr;
  if (algo_ == ConvAlgo::Naive) {
    conv2d_forward_naive(last_, x.data(), weight.value.data(), b, y.data());
  } else {
    conv2d_forward_im2col(last_, x.data(), weight.value.data(), b, y.data(), workspace_);
  }
  input_ = x;  // backward needs x for the weight gradient
  has_input_ = true;
  return y;
}

Tensor Conv2d::backward(const Tensor& dy) {
  if (!has_input_) throw Error("Conv2d: backward called before forward");
  const Shape expected = {std::size_t(last_.N), std::size_t(last_.K), std::size_t(last_.P()),
                          std::size_t(last_.Q())};
  if (shape_of(dy) != expected) {
    throw Error("Conv2d: backward got dy " + to_string(shape_of(dy)) + ", expected " +
                to_string(expected) + " (the shape of the last forward output)");
  }
  Tensor dx = zeros(shape_of(input_));
  Scalar* db = options_.bias() ? bias.grad.data() : nullptr;
  if (algo_ == ConvAlgo::Naive) {
    conv2d_backward_naive(last_, input_.data(), weight.value.data(), dy.data(), dx.data(),
                          weight.grad.data(), db);
  } else {
    conv2d_backward_im2col(last_, input_.data(), weight.value.data(), dy.data(), dx.data(),
                           weight.grad.data(), db, workspace_);
  }
  return dx;
}

std::string Conv2d::repr() const {
  // As PyTorch's _ConvNd.extra_repr: padding, dilation and groups only when not the default.
  const Conv2dOptions& o = options_;
  std::ostringstream s;
  s << "Conv2d(" << o.in_channels() << ", " << o.out_channels()
    << ", kernel_size=" << str(o.kernel_size()) << ", stride=" << str(o.stride());
  if (o.padding() != Pair(0)) s << ", padding=" << str(o.padding());
  if (o.dilation() != Pair(1)) s << ", dilation=" << str(o.dilation());
  if (o.groups() != 1) s << ", groups=" << o.groups();
  if (!o.bias()) s << ", bias=False";
  s << ")";
  return s.str();
}

double Conv2d::flops() const {
  if (!has_input_) return 0;
  const ConvGeometry& g = last_;
  return 2.0 * g.N * g.K * g.P() * g.Q() * (g.C / g.G) * g.R * g.S;
}

}  // namespace convbook
