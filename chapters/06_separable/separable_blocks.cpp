#include "chapters/06_separable/separable_blocks.hpp"

#include "convbook/error.hpp"

namespace convbook {

void SeparableOptions::validate(const std::string& block) const {
  const std::string where = block + "(" + std::to_string(in_) + ", " + std::to_string(out_) +
                            ", kernel_size=(" + std::to_string(kernel_.h) + ", " +
                            std::to_string(kernel_.w) + "), stride=" + std::to_string(stride_) +
                            "): ";
  if (in_ == 0 || out_ == 0) throw Error(where + "channel counts must be at least 1");
  if (kernel_.h == 0 || kernel_.w == 0 || kernel_.h % 2 == 0 || kernel_.w % 2 == 0) {
    throw Error(where + "kernel sizes must be odd (padding R/2, S/2 keeps the image size)");
  }
  if (stride_ != 1 && stride_ != 2) {
    throw Error(where + "stride=" + std::to_string(stride_) + ", expected 1 or 2");
  }
}

namespace {

const SeparableOptions& validated(const SeparableOptions& o, const char* block) {
  o.validate(block);
  return o;
}

// The channels the depthwise layer of a DepthwiseSeparable block filters: C when it comes
// first, K when the pointwise layer has already mapped C to K.
std::size_t depthwise_channels(const SeparableOptions& o) {
  return o.order() == SeparableOrder::DepthwiseFirst ? o.in_channels() : o.out_channels();
}

Conv2dOptions depthwise_options(const SeparableOptions& o) {
  const std::size_t D = depthwise_channels(o);
  const Pair k = o.kernel_size();
  return Conv2dOptions(D, D, k)
      .stride(o.stride())
      .padding({k.h / 2, k.w / 2})
      .groups(D)
      .bias(false);
}

// A vertical (R x 1) or horizontal (1 x S) convolution of a factorized R x S filter: it
// carries the stride and the padding of its own axis only.
Conv2dOptions vertical_options(const SeparableOptions& o, std::size_t in, std::size_t out,
                               std::size_t groups) {
  const std::size_t R = o.kernel_size().h;
  return Conv2dOptions(in, out, {R, 1})
      .stride({o.stride(), 1})
      .padding({R / 2, 0})
      .groups(groups)
      .bias(false);
}

Conv2dOptions horizontal_options(const SeparableOptions& o, std::size_t in, std::size_t out,
                                 std::size_t groups) {
  const std::size_t S = o.kernel_size().w;
  return Conv2dOptions(in, out, {1, S})
      .stride({1, o.stride()})
      .padding({0, S / 2})
      .groups(groups)
      .bias(false);
}

void require_channels(const Module& block, const Tensor& x, std::size_t C) {
  const Shape s = shape_of(x);
  if (s[1] != C) {
    throw Error(block.repr() + ": input " + to_string(s) + " has " + std::to_string(s[1]) +
                " channels, expected " + std::to_string(C));
  }
}

std::string describe(const char* block, const SeparableOptions& o) {
  return std::string(block) + "(" + std::to_string(o.in_channels()) + ", " +
         std::to_string(o.out_channels()) + ", kernel_size=(" + std::to_string(o.kernel_size().h) +
         ", " + std::to_string(o.kernel_size().w) + "), stride=" + std::to_string(o.stride());
}

}  // namespace

// ---- depthwise-separable ----

DepthwiseSeparable::DepthwiseSeparable(const SeparableOptions& options)
    : options_(validated(options, "DepthwiseSeparable")),
      depthwise(depthwise_options(options)),
      pointwise(Conv2dOptions(options.in_channels(), options.out_channels(), 1).bias(false)),
      bn1(depthwise_channels(options)),
      bn2(options.out_channels()) {
  // Registered in the order of the forward pass, as the PyTorch module lists them.
  register_module(options.order() == SeparableOrder::DepthwiseFirst ? "depthwise" : "pointwise",
                  &first());
  if (options.middle_bn_relu()) {
    register_module("bn1", &bn1);
    register_module("relu1", &relu1);
  }
  register_module(options.order() == SeparableOrder::DepthwiseFirst ? "pointwise" : "depthwise",
                  &second());
  register_module("bn2", &bn2);
  register_module("relu2", &relu2);
}

Module& DepthwiseSeparable::first() {
  if (options_.order() == SeparableOrder::DepthwiseFirst) return depthwise;
  return pointwise;
}

Module& DepthwiseSeparable::second() {
  if (options_.order() == SeparableOrder::DepthwiseFirst) return pointwise;
  return depthwise;
}

//! [ds-forward]
Tensor DepthwiseSeparable::forward(const Tensor& x) {
  require_channels(*this, x, options_.in_channels());
  Tensor h = first().forward(x);  // MobileNet: depthwise R x S; Xception: pointwise 1x1
  if (options_.middle_bn_relu()) h = relu1.forward(bn1.forward(h));
  h = second().forward(h);
  return relu2.forward(bn2.forward(h));
}
//! [ds-forward]

//! [ds-backward]
Tensor DepthwiseSeparable::backward(const Tensor& dy) {
  // A chain: each layer's backward takes the gradient of its output and returns that of its
  // input, so the block's backward is the forward read from the end.
  Tensor dh = second().backward(bn2.backward(relu2.backward(dy)));
  if (options_.middle_bn_relu()) dh = bn1.backward(relu1.backward(dh));
  return first().backward(dh);
}
//! [ds-backward]

std::string DepthwiseSeparable::repr() const {
  std::string r = describe("DepthwiseSeparable", options_);
  if (options_.order() == SeparableOrder::PointwiseFirst) r += ", order=pointwise_first";
  if (!options_.middle_bn_relu()) r += ", middle_bn_relu=False";
  return r + ")";
}

// ---- spatially separable ----

SpatiallySeparable::SpatiallySeparable(const SeparableOptions& options)
    : options_(validated(options, "SpatiallySeparable")),
      vertical(vertical_options(options, options.in_channels(), options.mid_channels(), 1)),
      bn1(options.mid_channels()),
      horizontal(horizontal_options(options, options.mid_channels(), options.out_channels(), 1)),
      bn2(options.out_channels()) {
  register_module("vertical", &vertical);
  if (options.middle_bn_relu()) {
    register_module("bn1", &bn1);
    register_module("relu1", &relu1);
  }
  register_module("horizontal", &horizontal);
  register_module("bn2", &bn2);
  register_module("relu2", &relu2);
}

//! [spatial-forward]
Tensor SpatiallySeparable::forward(const Tensor& x) {
  require_channels(*this, x, options_.in_channels());
  Tensor h = vertical.forward(x);  // R x 1: each output sees one column of R pixels
  if (options_.middle_bn_relu()) h = relu1.forward(bn1.forward(h));
  h = horizontal.forward(h);  // 1 x S: then a row of S of those columns
  return relu2.forward(bn2.forward(h));
}

Tensor SpatiallySeparable::backward(const Tensor& dy) {
  Tensor dh = horizontal.backward(bn2.backward(relu2.backward(dy)));
  if (options_.middle_bn_relu()) dh = bn1.backward(relu1.backward(dh));
  return vertical.backward(dh);
}
//! [spatial-forward]

std::string SpatiallySeparable::repr() const {
  std::string r = describe("SpatiallySeparable", options_) +
                  ", mid_channels=" + std::to_string(options_.mid_channels());
  if (!options_.middle_bn_relu()) r += ", middle_bn_relu=False";
  return r + ")";
}

// ---- flattened ----

Flattened::Flattened(const SeparableOptions& options)
    : options_(validated(options, "Flattened")),
      lateral(Conv2dOptions(options.in_channels(), options.out_channels(), 1).bias(false)),
      vertical(vertical_options(options, options.out_channels(), options.out_channels(),
                                options.out_channels())),
      horizontal(horizontal_options(options, options.out_channels(), options.out_channels(),
                                    options.out_channels())),
      bn(options.out_channels()) {
  register_module("lateral", &lateral);
  register_module("vertical", &vertical);
  register_module("horizontal", &horizontal);
  register_module("bn", &bn);
  register_module("relu", &relu);
}

//! [flattened-forward]
Tensor Flattened::forward(const Tensor& x) {
  require_channels(*this, x, options_.in_channels());
  Tensor h = lateral.forward(x);  // 1x1: C -> K, channels only
  h = vertical.forward(h);        // R x 1 per channel: rows only
  h = horizontal.forward(h);      // 1 x S per channel: columns only
  return relu.forward(bn.forward(h));
}

Tensor Flattened::backward(const Tensor& dy) {
  Tensor dh = horizontal.backward(bn.backward(relu.backward(dy)));
  dh = vertical.backward(dh);
  return lateral.backward(dh);
}
//! [flattened-forward]

std::string Flattened::repr() const {
  return describe("Flattened", options_) + ")";
}

//! [flattened-kernel]
Tensor flattened_kernel(const Tensor& lateral, const Tensor& vertical, const Tensor& horizontal) {
  const Shape l = shape_of(lateral), v = shape_of(vertical), h = shape_of(horizontal);
  const std::size_t K = l[0], C = l[1], R = v[2], S = h[3];
  if (l[2] != 1 || l[3] != 1 || v[0] != K || v[1] != 1 || v[3] != 1 || h[0] != K || h[1] != 1 ||
      h[2] != 1) {
    throw Error("flattened_kernel: shapes " + to_string(l) + ", " + to_string(v) + ", " +
                to_string(h) + "; expected (K, C, 1, 1), (K, 1, R, 1) and (K, 1, 1, S)");
  }
  Tensor w = zeros({K, C, R, S});
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t r = 0; r < R; ++r)
        for (std::size_t s = 0; s < S; ++s)
          w(k, c, r, s) = lateral(k, c, 0, 0) * vertical(k, 0, r, 0) * horizontal(k, 0, 0, s);
  return w;
}
//! [flattened-kernel]

}  // namespace convbook
