#pragma once
/// @file receptive_field.hpp
/// @brief Receptive fields of a stack of convolutions: the closed form, and the exact set of
/// input pixels that reach one output, found by running backward through real Conv2d layers.
///
/// Legend: k kernel size, s stride, d dilation (the same along both axes), H x W input.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "convbook/layers/sequential.hpp"
#include "convbook/tensor.hpp"

namespace convbook {

/// @brief One square convolution of a stack: kernel k x k, stride s, dilation d.
struct RFLayer {
  std::size_t kernel = 3;    ///< k
  std::size_t stride = 1;    ///< s
  std::size_t dilation = 1;  ///< d
};

/// @brief A stack of k x k convolutions with stride 1 and the given dilations, e.g.
/// rf_stack(3, {1, 2, 5}).
std::vector<RFLayer> rf_stack(std::size_t kernel, const std::vector<std::size_t>& dilations);

/// @brief A readable name, e.g. "k3 d(1,2,5)" or "(k3 s2 d1)(k3 s1 d2)".
std::string to_string(const std::vector<RFLayer>& layers);

/// @brief The receptive field's side, by the closed form RF = 1 + sum_l (k_l - 1) d_l
/// prod_{i<l} s_i.
/// @throws Error when a layer has a zero kernel, stride or dilation.
std::size_t receptive_field_size(const std::vector<RFLayer>& layers);

/// @brief The stack as real layers: one Conv2d(1, 1, k) per layer, stride s, dilation d,
/// padding d (k-1)/2 ("same" padding for odd k), no bias, every weight 1.
/// @throws Error as receptive_field_size does.
std::unique_ptr<Sequential> ones_conv_stack(const std::vector<RFLayer>& layers);

/// @brief Which input pixels reach the centre output of the stack, and by how many paths.
///
/// Runs `ones_conv_stack(layers)` forward on a zero (1, 1, size, size) input, then backward
/// from a one-hot dy at the centre output. The gradient of that output with respect to x is
/// the number of paths from each input pixel to it (every weight is 1): nonzero exactly on the
/// pixels the output sees. The backward IS the receptive field.
/// @param layers  the stack
/// @param size    input side H = W; must be large enough that the field is not cut by the
///                border (receptive_field_size + 2 is enough for stride 1)
/// @return dx, (1, 1, size, size): the path counts
/// @throws Error when the output would be empty.
Tensor receptive_field_map(const std::vector<RFLayer>& layers, std::size_t size);

/// @brief The facts of a receptive-field map.
struct RFMeasure {
  std::size_t extent = 0;   ///< side of the bounding box of the nonzero pixels
  std::size_t reached = 0;  ///< number of nonzero pixels (the ones that influence the output)
  std::size_t holes = 0;    ///< zero pixels inside the bounding box: the gridding artifact
};

/// @brief Measures a map written by receptive_field_map (nonzero = reached).
RFMeasure measure_receptive_field(const Tensor& map);

}  // namespace convbook
