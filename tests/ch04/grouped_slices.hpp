#pragma once
// Chapter 04's reference: a grouped convolution computed as G separate dense Conv2d on channel
// slices, and the dense conv with a block-diagonal weight. Shared by the float test and the
// double (f64) test, so it is written for either Scalar.
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/tensor.hpp"

namespace convbook::test {

/// Channels [c0, c0 + count) of an (N, C, H, W) tensor, as a new (N, count, H, W) tensor.
inline Tensor channel_slice(const Tensor& x, std::size_t c0, std::size_t count) {
  const Shape s = shape_of(x);
  const std::size_t plane = s[2] * s[3];
  Tensor out = zeros({s[0], count, s[2], s[3]});
  for (std::size_t n = 0; n < s[0]; ++n) {
    const Scalar* src = x.data() + (n * s[1] + c0) * plane;
    std::copy(src, src + count * plane, out.data() + n * count * plane);
  }
  return out;
}

/// Writes `part` (N, count, H, W) into channels [c0, c0 + count) of `whole` (N, C, H, W).
inline void put_channels(Tensor& whole, const Tensor& part, std::size_t c0) {
  const Shape s = shape_of(whole), p = shape_of(part);
  const std::size_t plane = s[2] * s[3];
  for (std::size_t n = 0; n < s[0]; ++n) {
    const Scalar* src = part.data() + n * p[1] * plane;
    std::copy(src, src + p[1] * plane, whole.data() + (n * s[1] + c0) * plane);
  }
}

/// What one forward + backward of a convolution gives.
struct ConvResult {
  Tensor y, dx, dw, db;
};

/// The grouped layer `conv` computed as G dense Conv2d: group g gets input channels
/// [g C/G, (g+1) C/G), weight rows [g K/G, (g+1) K/G), and writes output channels
/// [g K/G, (g+1) K/G); the results are put back side by side.
inline ConvResult grouped_as_slices(const Conv2d& conv, const Tensor& x, const Tensor& dy) {
  const Conv2dOptions& o = conv.options();
  const std::size_t G = o.groups(), Cg = o.in_channels() / G, Kg = o.out_channels() / G;
  const Shape ws = shape_of(conv.weight.value);
  const std::size_t wrows = ws[1] * ws[2] * ws[3];  // (C/G) R S weights per output channel
  ConvResult r;
  r.y = zeros(shape_of(dy));
  r.dx = zeros(shape_of(x));
  r.dw = zeros(ws);
  r.db = zeros({o.out_channels(), 1, 1, 1});
  //! [grouped-as-slices]
  for (std::size_t g = 0; g < G; ++g) {
    Conv2dOptions og(Cg, Kg, o.kernel_size());
    og.stride(o.stride()).padding(o.padding()).dilation(o.dilation()).bias(o.bias());
    Conv2d part(og);
    const Scalar* w0 = conv.weight.value.data() + g * Kg * wrows;
    std::copy(w0, w0 + Kg * wrows, part.weight.value.data());
    if (o.bias()) {
      const Scalar* b0 = conv.bias.value.data() + g * Kg;
      std::copy(b0, b0 + Kg, part.bias.value.data());
    }
    part.zero_grad();
    put_channels(r.y, part.forward(channel_slice(x, g * Cg, Cg)), g * Kg);
    put_channels(r.dx, part.backward(channel_slice(dy, g * Kg, Kg)), g * Cg);
    std::copy(part.weight.grad.begin(), part.weight.grad.end(), r.dw.data() + g * Kg * wrows);
    if (o.bias()) std::copy(part.bias.grad.begin(), part.bias.grad.end(), r.db.data() + g * Kg);
  }
  //! [grouped-as-slices]
  return r;
}

/// The dense (K, C, R, S) weight equivalent to a grouped (K, C/G, R, S) one: block g of rows
/// (output channels) holds the group's weights in columns [g C/G, (g+1) C/G), zeros elsewhere.
inline Tensor block_diagonal_weight(const Tensor& w, std::size_t C, std::size_t G) {
  const Shape s = shape_of(w);
  const std::size_t K = s[0], Cg = s[1], RS = s[2] * s[3], Kg = K / G;
  Tensor dense = zeros({K, C, s[2], s[3]});
  for (std::size_t k = 0; k < K; ++k) {
    const std::size_t g = k / Kg;
    std::copy(w.data() + k * Cg * RS, w.data() + (k + 1) * Cg * RS,
              dense.data() + (k * C + g * Cg) * RS);
  }
  return dense;
}

}  // namespace convbook::test
