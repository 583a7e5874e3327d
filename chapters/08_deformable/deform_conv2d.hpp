#pragma once
/// @file deform_conv2d.hpp
/// @brief DeformConv2d: a deformable convolution layer that predicts its own offsets (v1) and
/// modulation mask (v2) with zero-initialized convolutions, as DCN's "pack" layers do.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, OG offset groups. Shapes: x: (N, C, H, W)  weight: (K, C/G, R, S)  y: (N, K, P, Q).
///
/// @code
/// DeformConv2d v1(Conv2dOptions(64, 64, 3).padding(1));                  // offsets only
/// DeformConv2d v2(Conv2dOptions(64, 64, 3).padding(1), DeformVersion::V2, 4);  // + mask, OG 4
/// @endcode
#include <cstddef>
#include <string>

#include "chapters/08_deformable/deform_conv.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief DCNv1 (learned offsets) or DCNv2 (learned offsets and a modulation mask).
enum class DeformVersion { V1, V2 };

/// @brief The geometry of a deformable convolution of `options` on an input of shape `input`,
/// with `offset_groups` offset groups.
/// @throws Error naming the value when the input is not (N, C, H, W) with C = in_channels, the
///   dilated kernel does not fit in the padded input, or offset_groups does not divide C.
DeformGeometry deform_geometry(const Conv2dOptions& options, std::size_t offset_groups,
                               const Shape& input);

/// @brief A deformable convolution with its offset branch (and, for v2, its mask branch).
///
/// conv_offset, a Conv2d with the layer's kernel, stride, padding and dilation, predicts the
/// 2*OG*R*S offsets of every output position; conv_mask (v2) predicts OG*R*S logits, passed
/// through a sigmoid. Both start at zero weight and bias, so a new layer samples the regular
/// grid with mask 0.5 everywhere: it starts as a regular convolution (v2: at half scale).
/// Parameters as a PyTorch module with the same attributes would name them: `weight`
/// (K, C/G, R, S), `bias` (K) when options.bias(), `conv_offset.weight`, `conv_offset.bias`,
/// `conv_mask.weight`, `conv_mask.bias` (v2).
class DeformConv2d : public Module {
 public:
  /// @brief A deformable convolution.
  /// @param options        kernel, stride, padding, dilation, groups, bias as for Conv2d
  /// @param version        V1 (offsets) or V2 (offsets and mask)
  /// @param offset_groups  OG, must divide in_channels
  /// @throws Error on invalid options or offset_groups.
  explicit DeformConv2d(const Conv2dOptions& options, DeformVersion version = DeformVersion::V2,
                        std::size_t offset_groups = 1);

  /// @brief offset = conv_offset(x), mask = sigmoid(conv_mask(x)), y = deform_conv2d(x, offset,
  /// mask, weight) + bias; caches x, offset and mask.
  Tensor forward(const Tensor& x) override;
  /// @brief dx through the sampling plus dx through the offset and mask branches; accumulates
  /// every parameter's gradient.
  Tensor backward(const Tensor& dy) override;
  /// @brief "DeformConv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1),
  /// offset_groups=1, version=2)".
  std::string repr() const override;
  /// @brief The sampling convolution (2 * N*K*P*Q*(C/G)*R*S, plus 2 * 4 multiply-adds for each
  /// of the N*C*R*S*P*Q bilinear samples) and the offset and mask convolutions.
  double flops() const override;

  /// @brief Chooses the kernels of forward and backward (default DeformAlgo::Im2col).
  void set_algorithm(DeformAlgo algo) { algo_ = algo; }
  /// @brief The offsets of the last forward, (N, 2*OG*R*S, P, Q) as torchvision lays them out.
  const Tensor& last_offset() const { return offset_; }
  /// @brief The mask of the last forward (after the sigmoid), (N, OG*R*S, P, Q); empty for v1.
  const Tensor& last_mask() const { return mask_; }
  /// @brief The options this layer was built with.
  const Conv2dOptions& options() const { return options_; }

  Parameter weight;    ///< (K, C/G, R, S)
  Parameter bias;      ///< (K); not registered when options.bias() is false
  Conv2d conv_offset;  ///< C -> 2*OG*R*S, zero-initialized
  Conv2d conv_mask;    ///< C -> OG*R*S, zero-initialized; registered for v2 only

 private:
  Conv2dOptions options_;
  DeformVersion version_;
  std::size_t offset_groups_;
  DeformAlgo algo_ = DeformAlgo::Im2col;
  Tensor input_, offset_, mask_;
  DeformGeometry last_;
  bool has_input_ = false;
};

}  // namespace convbook
