/// @file deform_conv2d.cpp
/// @brief DeformConv2d: the offset and mask branches and the hand-routed backward.
#include "chapters/08_deformable/deform_conv2d.hpp"

#include <cmath>
#include <sstream>

#include "convbook/error.hpp"
#include "convbook/init.hpp"

namespace convbook {

namespace {

Conv2dOptions branch_options(const Conv2dOptions& o, std::size_t out_channels) {
  // The branch sees the same windows as the sampling convolution, so its output (p, q) is
  // computed from the neighbourhood whose taps it moves.
  return Conv2dOptions(o.in_channels(), out_channels, o.kernel_size())
      .stride(o.stride())
      .padding(o.padding())
      .dilation(o.dilation());
}

void zero_init(Conv2d& conv) {
  constant_(conv.weight, 0);
  constant_(conv.bias, 0);
}

std::string pair_str(const Pair& p) {
  return "(" + std::to_string(p.h) + ", " + std::to_string(p.w) + ")";
}

}  // namespace

DeformGeometry deform_geometry(const Conv2dOptions& o, std::size_t offset_groups,
                               const Shape& input) {
  if (offset_groups == 0 || o.in_channels() % offset_groups != 0) {
    throw Error("DeformConv2d: offset_groups=" + std::to_string(offset_groups) +
                ", expected a divisor of in_channels=" + std::to_string(o.in_channels()));
  }
  if (input[1] != o.in_channels()) {
    throw Error("DeformConv2d: input " + to_string(input) + " has " + std::to_string(input[1]) +
                " channels, expected in_channels=" + std::to_string(o.in_channels()));
  }
  DeformGeometry g;
  static_cast<ConvGeometry&>(g) = conv_geometry(o, input);
  g.OG = int(offset_groups);
  if (g.P() <= 0 || g.Q() <= 0) {
    throw Error("DeformConv2d: effective kernel (dilation*(kernel-1)+1) = (" +
                std::to_string(g.dil_h * (g.R - 1) + 1) + ", " +
                std::to_string(g.dil_w * (g.S - 1) + 1) + ") does not fit in the padded input " +
                "(H+2*padding, W+2*padding) = (" + std::to_string(g.H + 2 * g.pad_h) + ", " +
                std::to_string(g.W + 2 * g.pad_w) + ") of input " + to_string(input) +
                "; expected it to fit");
  }
  return g;
}

DeformConv2d::DeformConv2d(const Conv2dOptions& options, DeformVersion version,
                           std::size_t offset_groups)
    : conv_offset(branch_options(
          options, 2 * offset_groups * options.kernel_size().h * options.kernel_size().w)),
      conv_mask(branch_options(options,
                               offset_groups * options.kernel_size().h * options.kernel_size().w)),
      options_(options),
      version_(version),
      offset_groups_(offset_groups) {
  options_.validate();
  if (offset_groups == 0 || options.in_channels() % offset_groups != 0) {
    throw Error("DeformConv2d: offset_groups=" + std::to_string(offset_groups) +
                ", expected a divisor of in_channels=" + std::to_string(options.in_channels()));
  }
  const std::size_t K = options.out_channels(), Cg = options.in_channels() / options.groups();
  weight = Parameter::make({K, Cg, options.kernel_size().h, options.kernel_size().w});
  kaiming_normal_(weight, FanMode::FanOut);  // as Conv2d: the layer starts as a regular conv
  register_parameter("weight", &weight);
  if (options.bias()) {
    bias = Parameter::make({K});
    register_parameter("bias", &bias);
  }
  //! [zero-init]
  // Zero offsets: the regular grid (Dai et al.); zero mask logits: sigmoid = 0.5 (Zhu et al.).
  zero_init(conv_offset);
  zero_init(conv_mask);
  //! [zero-init]
  register_module("conv_offset", &conv_offset);
  if (version_ == DeformVersion::V2) register_module("conv_mask", &conv_mask);
}

//! [deform-module-forward]
Tensor DeformConv2d::forward(const Tensor& x) {
  if (x.dimension() != 4) {
    throw Error("DeformConv2d: input has " + std::to_string(x.dimension()) +
                " dimensions, expected 4 (N, C, H, W)");
  }
  last_ = deform_geometry(options_, offset_groups_, shape_of(x));
  offset_ = conv_offset.forward(x);  // (N, 2*OG*R*S, P, Q)
  const Scalar* m = nullptr;
  if (version_ == DeformVersion::V2) {
    mask_ = conv_mask.forward(x);                                        // logits (N, OG*R*S, P, Q)
    for (Scalar& v : mask_) v = Scalar(1) / (Scalar(1) + std::exp(-v));  // sigmoid
    m = mask_.data();
  }
  Tensor y = zeros(
      {x.shape()[0], options_.out_channels(), std::size_t(last_.P()), std::size_t(last_.Q())});
  const Scalar* b = options_.bias() ? bias.value.data() : nullptr;
  deform_conv2d_forward(algo_, last_, x.data(), offset_.data(), m, weight.value.data(), b, y.data(),
                        conv_workspace_arena());
  input_ = x;
  has_input_ = true;
  return y;
}
//! [deform-module-forward]

//! [deform-module-backward]
Tensor DeformConv2d::backward(const Tensor& dy) {
  if (!has_input_) throw Error("DeformConv2d: backward called before forward");
  const bool v2 = version_ == DeformVersion::V2;
  Tensor dx = zeros(shape_of(input_));
  Tensor doffset = zeros(shape_of(offset_));
  Tensor dmask = v2 ? zeros(shape_of(mask_)) : Tensor();
  const Scalar* m = v2 ? mask_.data() : nullptr;
  Scalar* dm = v2 ? dmask.data() : nullptr;
  Scalar* db = options_.bias() ? bias.grad.data() : nullptr;
  // 1. the sampling convolution: dx (through the bilinear weights), d offset, d mask, dw, db
  deform_conv2d_backward(algo_, last_, input_.data(), offset_.data(), m, weight.value.data(),
                         dy.data(), dx.data(), doffset.data(), dm, weight.grad.data(), db,
                         conv_workspace_arena());
  // 2. the offset branch: x also reached y through the offsets it predicted
  dx += conv_offset.backward(doffset);
  // 3. the mask branch (v2): through the sigmoid, d logit = d mask * m (1 - m)
  if (v2) {
    for (std::size_t i = 0; i < dmask.size(); ++i) dmask.data()[i] *= m[i] * (1 - m[i]);
    dx += conv_mask.backward(dmask);
  }
  return dx;
}
//! [deform-module-backward]

std::string DeformConv2d::repr() const {
  const Conv2dOptions& o = options_;
  std::ostringstream s;
  s << "DeformConv2d(" << o.in_channels() << ", " << o.out_channels()
    << ", kernel_size=" << pair_str(o.kernel_size()) << ", stride=" << pair_str(o.stride());
  if (o.padding() != Pair(0)) s << ", padding=" << pair_str(o.padding());
  if (o.dilation() != Pair(1)) s << ", dilation=" << pair_str(o.dilation());
  if (o.groups() != 1) s << ", groups=" << o.groups();
  if (!o.bias()) s << ", bias=False";
  s << ", offset_groups=" << offset_groups_
    << ", version=" << (version_ == DeformVersion::V2 ? 2 : 1) << ")";
  return s.str();
}

double DeformConv2d::flops() const {
  if (!has_input_) return 0;
  const DeformGeometry& g = last_;
  const double outputs = double(g.N) * g.P() * g.Q();
  const double sampling = 2.0 * 4 * outputs * g.C * g.R * g.S;  // 4 multiply-adds per sample
  const double gemm = 2.0 * outputs * g.K * (g.C / g.G) * g.R * g.S;
  return gemm + sampling + Module::flops();  // Module::flops sums the registered branches
}

}  // namespace convbook
