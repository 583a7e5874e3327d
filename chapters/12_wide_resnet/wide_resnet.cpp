#include "chapters/12_wide_resnet/wide_resnet.hpp"

#include "chapters/10_resnet/resnet.hpp"
#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/repr.hpp"

namespace convbook {

namespace {

// The block's arguments checked before any member is built (from bn0's initializer), so a bad
// configuration gets the block's message rather than a layer's.
std::size_t checked_in_planes(std::size_t in_planes, std::size_t out_planes, std::size_t stride,
                              double dropout) {
  const std::string where = "WideBasic(" + std::to_string(in_planes) + ", " +
                            std::to_string(out_planes) + ", stride=" + std::to_string(stride) +
                            ", dropout=" + python_float(dropout) + "): ";
  if (in_planes == 0 || out_planes == 0 || stride == 0) {
    throw Error(where + "channels and stride must be at least 1");
  }
  if (!(dropout >= 0 && dropout < 1)) throw Error(where + "dropout must be in [0, 1)");
  return in_planes;
}

}  // namespace

WideBasic::WideBasic(std::size_t in_planes, std::size_t out_planes, std::size_t stride,
                     double dropout_p)
    : bn0(checked_in_planes(in_planes, out_planes, stride, dropout_p)),
      conv0(conv3x3(in_planes, out_planes, stride)),
      bn1(out_planes),
      dropout(dropout_p),
      conv1(conv3x3(out_planes, out_planes)),
      C_(in_planes),
      K_(out_planes),
      stride_(stride) {
  register_module("bn0", &bn0);
  register_module("conv0", &conv0);
  register_module("bn1", &bn1);
  register_module("dropout", &dropout);
  register_module("conv1", &conv1);
  if (in_planes != out_planes || stride != 1) {
    convdim = std::make_unique<Conv2d>(conv1x1(in_planes, out_planes, stride));
    register_module("convdim", convdim.get());
  }
}

//! [wide-basic]
Tensor WideBasic::forward(const Tensor& x) {
  const Tensor o1 = relu0.forward(bn0.forward(x));  // pre-activation, shared with convdim
  Tensor h = relu1.forward(bn1.forward(conv0.forward(o1)));
  Tensor y = conv1.forward(dropout.forward(h));
  if (convdim) {  // no ReLU after the sum
    add_into(y, convdim->forward(o1));
  } else {
    add_into(y, x);  // added straight from x: no copy of it
  }
  out_shape_ = shape_of(y);
  return y;
}

Tensor WideBasic::backward(const Tensor& dy) {
  if (numel(out_shape_) == 0 || shape_of(dy) != out_shape_) {
    throw Error(repr() + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward output's shape " + to_string(out_shape_));
  }
  // The sum hands dy unchanged to the residual path and to the shortcut.
  const Tensor dh = dropout.backward(conv1.backward(dy));
  Tensor do1 = conv0.backward(bn1.backward(relu1.backward(dh)));  // dL/do1 through F
  if (convdim) {
    add_into(do1, convdim->backward(dy));  // o1 fed convdim too: its two gradients add up
    return bn0.backward(relu0.backward(do1));
  }
  Tensor dx = bn0.backward(relu0.backward(do1));
  add_into(dx, dy);  // the identity shortcut: x itself, not o1, was added
  return dx;
}
//! [wide-basic]

std::string WideBasic::repr() const {
  return "WideBasic(" + std::to_string(C_) + ", " + std::to_string(K_) +
         ", stride=" + std::to_string(stride_) + ", dropout=" + python_float(dropout.p()) +
         ", shortcut=" + (convdim ? "convdim" : "identity") + ")";
}

//! [wide-resnet]
ModulePtr wide_resnet(std::size_t depth, std::size_t width, double dropout, std::size_t num_classes,
                      std::size_t base) {
  const std::string where =
      "wide_resnet(depth=" + std::to_string(depth) + ", width=" + std::to_string(width) +
      ", dropout=" + python_float(dropout) + ", num_classes=" + std::to_string(num_classes) +
      (base == 16 ? "" : ", base=" + std::to_string(base)) + "): ";
  if (depth < 10 || (depth - 4) % 6 != 0) {
    throw Error(where + "depth should be 6n+4 with n >= 1 (10, 16, 22, 28, 40, ...)");
  }
  if (width == 0) throw Error(where + "width (k) must be at least 1");
  if (!(dropout >= 0 && dropout < 1)) throw Error(where + "dropout must be in [0, 1)");
  if (num_classes == 0) throw Error(where + "num_classes must be at least 1");
  if (base == 0) throw Error(where + "base must be at least 1 (16 in the paper)");
  const std::size_t n = (depth - 4) / 6;  // blocks per group
  const std::size_t widths[3] = {base * width, 2 * base * width, 4 * base * width};
  auto net = std::make_unique<Sequential>();
  net->add("conv0", std::make_unique<Conv2d>(conv3x3(3, base)));  // no BN-ReLU: the block has it
  std::size_t in = base;
  for (std::size_t g = 0; g < 3; ++g) {
    auto group = std::make_unique<Sequential>();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t stride = g > 0 && i == 0 ? 2 : 1;
      group->add("block" + std::to_string(i),
                 std::make_unique<WideBasic>(in, widths[g], stride, dropout));
      in = widths[g];
    }
    net->add("group" + std::to_string(g), std::move(group));
  }
  // The last block's sum has seen no BN-ReLU yet: pre-activation ends with one.
  net->add("bn", std::make_unique<BatchNorm2d>(in));
  net->add("relu", std::make_unique<ReLU>());
  add_classifier(*net, in, num_classes);
  return net;
}
//! [wide-resnet]

}  // namespace convbook
