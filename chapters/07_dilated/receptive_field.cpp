/// @file receptive_field.cpp
/// @brief Receptive fields: the closed form and the backward-pass measurement.
#include "chapters/07_dilated/receptive_field.hpp"

#include <algorithm>
#include <memory>

#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"

namespace convbook {

namespace {

void validate(const std::vector<RFLayer>& layers) {
  if (layers.empty()) throw Error("receptive field: empty stack, expected at least one layer");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const RFLayer& l = layers[i];
    if (l.kernel == 0 || l.stride == 0 || l.dilation == 0) {
      throw Error("receptive field: layer " + std::to_string(i) + " has kernel=" +
                  std::to_string(l.kernel) + " stride=" + std::to_string(l.stride) +
                  " dilation=" + std::to_string(l.dilation) + ", expected all >= 1");
    }
  }
}

}  // namespace

std::vector<RFLayer> rf_stack(std::size_t kernel, const std::vector<std::size_t>& dilations) {
  std::vector<RFLayer> layers;
  for (std::size_t d : dilations) layers.push_back({kernel, 1, d});
  return layers;
}

std::string to_string(const std::vector<RFLayer>& layers) {
  bool uniform = !layers.empty();
  for (const RFLayer& l : layers) {
    uniform = uniform && l.kernel == layers[0].kernel && l.stride == 1;
  }
  std::string s;
  if (uniform) {
    s = "k" + std::to_string(layers[0].kernel) + " d(";
    for (std::size_t i = 0; i < layers.size(); ++i) {
      s += (i ? "," : "") + std::to_string(layers[i].dilation);
    }
    return s + ")";
  }
  for (const RFLayer& l : layers) {
    s += "(k" + std::to_string(l.kernel) + " s" + std::to_string(l.stride) + " d" +
         std::to_string(l.dilation) + ")";
  }
  return s;
}

//! [rf-closed-form]
std::size_t receptive_field_size(const std::vector<RFLayer>& layers) {
  validate(layers);
  std::size_t rf = 1, jump = 1;  // jump: input pixels between two neighbours of this layer
  for (const RFLayer& l : layers) {
    rf += (l.kernel - 1) * l.dilation * jump;  // the dilated kernel spans (k-1) d steps
    jump *= l.stride;
  }
  return rf;
}
//! [rf-closed-form]

std::unique_ptr<Sequential> ones_conv_stack(const std::vector<RFLayer>& layers) {
  validate(layers);
  auto net = std::make_unique<Sequential>();
  for (const RFLayer& l : layers) {
    auto& conv = net->emplace<Conv2d>(Conv2dOptions(1, 1, l.kernel)
                                          .stride(l.stride)
                                          .dilation(l.dilation)
                                          .padding(l.dilation * (l.kernel - 1) / 2)
                                          .bias(false));
    std::fill(conv.weight.value.begin(), conv.weight.value.end(), Scalar(1));
  }
  return net;
}

//! [rf-backward]
Tensor receptive_field_map(const std::vector<RFLayer>& layers, std::size_t size) {
  const std::unique_ptr<Sequential> net = ones_conv_stack(layers);
  const Tensor y = net->forward(zeros({1, 1, size, size}));
  const Shape s = shape_of(y);
  if (s[2] == 0 || s[3] == 0) {
    throw Error("receptive_field_map: input " + std::to_string(size) + "x" + std::to_string(size) +
                " gives an empty output for " + to_string(layers) + ", expected a larger input");
  }
  Tensor dy = zeros(s);
  dy(0, 0, s[2] / 2, s[3] / 2) = 1;  // one-hot: d(centre output)/d(itself)
  return net->backward(dy);          // d(centre output)/dx: path counts, 0 = not seen
}
//! [rf-backward]

RFMeasure measure_receptive_field(const Tensor& map) {
  const Shape s = shape_of(map);
  std::size_t r0 = s[2], r1 = 0, c0 = s[3], c1 = 0;
  RFMeasure m;
  for (std::size_t r = 0; r < s[2]; ++r) {
    for (std::size_t c = 0; c < s[3]; ++c) {
      if (map(0, 0, r, c) == 0) continue;
      ++m.reached;
      r0 = std::min(r0, r), r1 = std::max(r1, r);
      c0 = std::min(c0, c), c1 = std::max(c1, c);
    }
  }
  if (m.reached == 0) return m;
  m.extent = std::max(r1 - r0, c1 - c0) + 1;
  m.holes = (r1 - r0 + 1) * (c1 - c0 + 1) - m.reached;
  return m;
}

}  // namespace convbook
