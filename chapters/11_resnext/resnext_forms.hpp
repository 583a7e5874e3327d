#pragma once
/// @file resnext_forms.hpp
/// @brief The three equivalent forms of the ResNeXt block (Xie et al. 2017, fig. 3), with
/// hand-written backward passes, and the map that carries the weights of the grouped form (c)
/// into the multi-path forms (a) and (b).
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, G the
/// cardinality (the number of paths, the groups of form (c)), d the width of one path (the
/// paper's "bottleneck width"), so the block's inner width is G d.
///
///     (a) aggregated transforms: G paths, each 1x1 (C -> d) - 3x3 (d -> d) - 1x1 (d -> K),
///         summed; one BN after the sum; + shortcut; ReLU
///     (b) early concatenation:   G paths, each 1x1 (C -> d) - 3x3 (d -> d), concatenated
///         (G d channels); one 1x1 (G d -> K); BN; + shortcut; ReLU
///     (c) grouped convolution:   1x1 (C -> G d) - grouped 3x3 (G d -> G d, G groups) -
///         1x1 (G d -> K); BN; + shortcut; ReLU: chapter 10's Bottleneck
/// Every 1x1 and 3x3 inside a path is followed by BN and ReLU, as in the paper's code.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "chapters/03_inception/inception.hpp"
#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief The sizes of one ResNeXt block, in the paper's terms: C in, K out, cardinality G,
/// bottleneck width d, stride of the 3x3. A projection shortcut (conv1x1 + BN) is added when
/// the stride is not 1 or C != K, as torchvision's _make_layer does.
struct ResNeXtBlockOptions {
  std::size_t in_channels;       ///< C
  std::size_t out_channels;      ///< K
  std::size_t cardinality;       ///< G, the number of paths
  std::size_t bottleneck_width;  ///< d, the channels of one path
  std::size_t stride = 1;        ///< of each path's 3x3 (and of the projection)

  /// @brief G d, the channels the 3x3s see all together.
  std::size_t width() const { return cardinality * bottleneck_width; }
  /// @brief Whether the shortcut needs a projection (stride != 1 or C != K).
  bool projects() const { return stride != 1 || in_channels != out_channels; }
  /// @brief "ResNeXtBlock(256, 256, 32x4d, stride=1)".
  std::string repr(const std::string& name = "ResNeXtBlock") const;
  /// @throws Error naming the first size that is 0.
  void validate() const;
};

/// @brief One path of forms (a) and (b): 1x1 (C -> d) - BN - ReLU - 3x3 (d -> d, stride) - BN
/// - ReLU and, in form (a) only, a last 1x1 (d -> K) without BN (the BN sits after the sum).
///
/// state_dict: conv1.weight (d, C, 1, 1), bn1.*, conv2.weight (d, d, 3, 3), bn2.*, and
/// conv3.weight (K, d, 1, 1) when the path has its own 1x1 out.
class ResNeXtPath : public Module {
 public:
  /// @param in_channels  C
  /// @param width        d, the channels of the path
  /// @param stride       of the 3x3
  /// @param out_channels K for a form (a) path; 0 for a form (b) path, which ends after relu2.
  ResNeXtPath(std::size_t in_channels, std::size_t width, std::size_t stride,
              std::size_t out_channels = 0);
  /// @brief [conv3](relu2(bn2(conv2(relu1(bn1(conv1(x))))))).
  Tensor forward(const Tensor& x) override;
  /// @brief The same steps in reverse.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "ResNeXtPath(256, 4, stride=1, out=256)".
  std::string repr() const override;

  Conv2d conv1;                   ///< 1x1, C -> d
  BatchNorm2d bn1;                ///< over d
  ReLU relu1;                     ///< after bn1
  Conv2d conv2;                   ///< 3x3, d -> d, stride
  BatchNorm2d bn2;                ///< over d
  ReLU relu2;                     ///< after bn2
  std::unique_ptr<Conv2d> conv3;  ///< 1x1, d -> K in form (a); null in form (b)

 private:
  std::size_t in_, width_, stride_, out_;
};

/// @brief Runs every branch on the same input and sums their outputs: the aggregation of form
/// (a), y = sum_i T_i(x). Backward hands dy unchanged to every branch (the sum's Jacobian is I
/// for each addend) and sums what they send back for x, which fed them all.
///
/// The branches are children registered with add_branch; they must give outputs of one shape.
class ParallelSum : public Module {
 public:
  /// @brief A sum whose branches read `in_channels` channels.
  explicit ParallelSum(std::size_t in_channels) : in_channels_(in_channels) {}
  /// @brief Registers `branch` under `name` and adds it to the sum.
  void add_branch(const std::string& name, Module* branch);
  /// @brief y = branch_0(x) + branch_1(x) + ...
  /// @throws Error when x does not have the expected channels or the branches' shapes differ.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = sum_i branch_i.backward(dy).
  /// @throws Error when dy does not have the last forward output's shape.
  Tensor backward(const Tensor& dy) override;
  /// @brief "ParallelSum(32 branches)".
  std::string repr() const override;

 private:
  std::size_t in_channels_;
  std::vector<Module*> branches_;
  Shape out_shape_{};
};

/// @brief The G paths of form (b), concatenated along the channels (chapter 03's
/// ParallelConcat routes forward and backward), named "0", "1", ...
class PathConcat : public ParallelConcat {
 public:
  /// @brief Registers every path of `paths` (which must outlive this module).
  PathConcat(std::size_t in_channels, const std::vector<std::unique_ptr<ResNeXtPath>>& paths);
  /// @brief "PathConcat(32 paths)".
  std::string repr() const override;

 private:
  std::size_t count_;
};

/// @brief Form (a), "aggregated residual transformations": bn3(sum_g T_g(x)) + shortcut, ReLU.
///
/// state_dict (g = 0 .. G-1): paths.g.conv1.weight ... paths.g.conv3.weight, bn3.*, downsample.*
class ResNeXtBlockA : public ResidualBlock {
 private:
  ResNeXtBlockOptions options_;                      // first: validated before anything is built
  std::vector<std::unique_ptr<ResNeXtPath>> owned_;  // the paths; `paths` sums them

 public:
  /// @throws Error on invalid options (ResNeXtBlockOptions::validate).
  explicit ResNeXtBlockA(const ResNeXtBlockOptions& options);
  /// @brief "ResNeXtBlockA(256, 256, 32x4d, stride=1)".
  std::string repr() const override;
  /// @brief The block's sizes.
  const ResNeXtBlockOptions& options() const { return options_; }
  /// @brief Path g (0 <= g < G).
  ResNeXtPath& path(std::size_t g) { return *owned_.at(g); }

  ParallelSum paths;  ///< the G paths, each ending in its own 1x1 d -> K, summed
  BatchNorm2d bn3;    ///< over K, after the sum

 protected:
  /// @brief bn3(paths(x)).
  Tensor residual_forward(const Tensor& x) override;
  /// @brief paths.backward(bn3.backward(d)).
  Tensor residual_backward(const Tensor& d) override;
};

/// @brief Form (b), "early concatenation": bn3(conv3(cat_g T_g(x))) + shortcut, ReLU.
///
/// state_dict (g = 0 .. G-1): paths.g.conv1.weight ... paths.g.bn2.*, conv3.weight, bn3.*,
/// downsample.*
class ResNeXtBlockB : public ResidualBlock {
 private:
  ResNeXtBlockOptions options_;
  std::vector<std::unique_ptr<ResNeXtPath>> owned_;

 public:
  /// @throws Error on invalid options (ResNeXtBlockOptions::validate).
  explicit ResNeXtBlockB(const ResNeXtBlockOptions& options);
  /// @brief "ResNeXtBlockB(256, 256, 32x4d, stride=1)".
  std::string repr() const override;
  /// @brief The block's sizes.
  const ResNeXtBlockOptions& options() const { return options_; }
  /// @brief Path g (0 <= g < G).
  ResNeXtPath& path(std::size_t g) { return *owned_.at(g); }

  PathConcat paths;  ///< the G paths, concatenated: G d channels
  Conv2d conv3;      ///< 1x1, G d -> K
  BatchNorm2d bn3;   ///< over K

 protected:
  /// @brief bn3(conv3(paths(x))).
  Tensor residual_forward(const Tensor& x) override;
  /// @brief The same steps in reverse.
  Tensor residual_backward(const Tensor& d) override;
};

/// @brief Form (c): chapter 10's Bottleneck with groups = G and the inner width G d, i.e.
/// planes = K / 4 and base_width = 64 d / planes, as torchvision's resnext50_32x4d builds it.
/// @throws Error when K is not a multiple of Bottleneck::expansion (4), or when 64 d is not a
///   multiple of K / 4 (torchvision's width formula could not give d channels per group).
std::unique_ptr<Bottleneck> resnext_bottleneck(const ResNeXtBlockOptions& options);

/// @brief Which of the three forms of fig. 3.
enum class ResNeXtForm {
  A,  ///< aggregated transforms (ResNeXtBlockA)
  B,  ///< early concatenation (ResNeXtBlockB)
  C   ///< grouped convolution (chapter 10's Bottleneck, resnext_bottleneck)
};

/// @brief The block of form `form` with sizes `options`, e.g. for `convbook info` and timing.
/// @throws Error as the block's constructor.
ModulePtr resnext_block(ResNeXtForm form, const ResNeXtBlockOptions& options);

/// @brief Copies the weights, gradients and BN buffers of the grouped form (c) into form (a):
/// path g gets rows [g d, (g+1) d) of conv1, bn1, conv2 and bn2, and columns [g d, (g+1) d) of
/// conv3; bn3 and the downsample are copied whole. Afterwards both blocks compute the same
/// function (and hold the same gradients, slice for slice).
/// @throws Error when the two blocks were not built from the same ResNeXtBlockOptions.
void grouped_to_paths(Bottleneck& c, ResNeXtBlockA& a);
/// @brief The same for form (b): path g gets its rows of conv1, bn1, conv2, bn2; conv3, bn3
/// and the downsample are copied whole.
/// @throws Error when the two blocks were not built from the same ResNeXtBlockOptions.
void grouped_to_paths(Bottleneck& c, ResNeXtBlockB& b);

}  // namespace convbook
