#pragma once
/// @file resnet.hpp
/// @brief torchvision's ResNet class and its factories (resnet18 ... wide_resnet101_2), with
/// torchvision's state_dict names, and the CIFAR ResNets of He et al. 2016 (sec. 4.2).
///
/// A model is a Sequential with named children, so its parameters are named exactly as
/// torchvision's: conv1.weight, bn1.running_mean, layer1.0.conv1.weight,
/// layer2.0.downsample.0.weight, fc.weight, ... A checkpoint written by save_checkpoint loads
/// into torchvision with load_state_dict(strict=True), and a torchvision state_dict saved as
/// safetensors loads here.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/module.hpp"

namespace convbook {

class Sequential;

/// @brief Which residual block a ResNet stacks.
enum class ResNetBlock {
  Basic,      ///< BasicBlock, expansion 1 (resnet18, resnet34, the CIFAR ResNets)
  Bottleneck  ///< Bottleneck, expansion 4 (resnet50 and deeper, ResNeXt, wide ResNets)
};

/// @brief The arguments of torchvision's `ResNet.__init__`, with its defaults.
struct ResNetOptions {
  ResNetBlock block = ResNetBlock::Basic;           ///< the block type
  std::array<std::size_t, 4> layers{{2, 2, 2, 2}};  ///< blocks per stage (layer1..layer4)
  std::size_t num_classes = 1000;                   ///< outputs of fc
  bool zero_init_residual = false;                  ///< last BN of each block starts at gamma = 0
  std::size_t groups = 1;                           ///< groups of every 3x3 in a Bottleneck
  std::size_t width_per_group = 64;                 ///< torchvision's base_width
  /// @brief For layer2, layer3, layer4: replace the stride 2 by a dilation (output stride 8
  /// or 16 for segmentation); Bottleneck only.
  std::array<bool, 3> replace_stride_with_dilation{{false, false, false}};
};

/// @brief torchvision's ResNet: conv1 7x7/2 - bn1 - relu - maxpool 3x3/2 - layer1..layer4 -
/// avgpool - flatten - fc, every convolution initialized kaiming_normal_(fan_out) and every
/// BN to (1, 0).
/// @throws Error naming the option when a layer count or num_classes is 0, or (from the
///   blocks) for groups/base_width/dilation a BasicBlock does not support.
ModulePtr resnet(const ResNetOptions& options);

/// @brief resnet18: BasicBlock [2, 2, 2, 2], 11,689,512 parameters with 1000 classes.
ModulePtr resnet18(ResNetOptions options = {});
/// @brief resnet34: BasicBlock [3, 4, 6, 3], 21,797,672 parameters.
ModulePtr resnet34(ResNetOptions options = {});
/// @brief resnet50: Bottleneck [3, 4, 6, 3], 25,557,032 parameters.
ModulePtr resnet50(ResNetOptions options = {});
/// @brief resnet101: Bottleneck [3, 4, 23, 3], 44,549,160 parameters.
ModulePtr resnet101(ResNetOptions options = {});
/// @brief resnet152: Bottleneck [3, 8, 36, 3], 60,192,808 parameters.
ModulePtr resnet152(ResNetOptions options = {});
/// @brief resnext50_32x4d: resnet50 with groups 32, width_per_group 4; 25,028,904 parameters.
ModulePtr resnext50_32x4d(ResNetOptions options = {});
/// @brief resnext101_32x8d: resnet101 with groups 32, width_per_group 8; 88,791,336 parameters.
ModulePtr resnext101_32x8d(ResNetOptions options = {});
/// @brief wide_resnet50_2: resnet50 with width_per_group 128; 68,883,240 parameters.
ModulePtr wide_resnet50_2(ResNetOptions options = {});
/// @brief wide_resnet101_2: resnet101 with width_per_group 128; 126,886,696 parameters.
ModulePtr wide_resnet101_2(ResNetOptions options = {});

/// @brief One of the nine torchvision factories by name ("resnet18", ..., "wide_resnet101_2").
/// @throws Error naming `name` and listing the known ones.
ModulePtr torchvision_resnet(const std::string& name, const ResNetOptions& options = {});
/// @brief torchvision_resnet(name, options) with options.num_classes = num_classes.
ModulePtr torchvision_resnet(const std::string& name, std::size_t num_classes);
/// @brief The names torchvision_resnet accepts, in torchvision's order.
const std::vector<std::string>& torchvision_resnet_names();

/// @brief The head every ResNet shares: global average pool ("avgpool"), flatten (torch.flatten(x,
/// 1) in torchvision's forward()), fc (features -> num_classes), appended to `net`.
void add_classifier(Sequential& net, std::size_t features, std::size_t num_classes);

/// @brief The shortcut of the CIFAR ResNets where the shape changes (He et al. 2016, sec. 3.3).
enum class CifarShortcut {
  A,  ///< identity with zero channels padded (PadShortcut): no parameters, the CIFAR default
  B   ///< projection conv1x1 + BN (as torchvision's downsample)
};

/// @brief The CIFAR ResNet of depth 6n + 2 (He et al. 2016, sec. 4.2): conv3x3 3 -> 16, BN,
/// ReLU, three stages of n BasicBlocks (16, 32, 64 channels at 32x32, 16x16, 8x8), global
/// average pool, fc 64 -> num_classes. Depth 20, 32, 44, 56, 110 are the paper's.
/// @throws Error when depth is not 6n + 2 with n >= 1, or num_classes is 0.
ModulePtr cifar_resnet(std::size_t depth, CifarShortcut shortcut = CifarShortcut::A,
                       std::size_t num_classes = 10);

}  // namespace convbook
