#pragma once
/// @file resnext29.hpp
/// @brief ResNeXt-29 for CIFAR (Xie et al. 2017, sec. 5.3, and the authors' code): a 3x3 stem
/// with 64 channels, three stages of three form (c) blocks (chapter 10's Bottleneck with groups)
/// at 32x32, 16x16 and 8x8, global average pool, fc. 29 = 1 stem + 3 x 3 x 3 convolutions + fc.
///
/// Legend: G cardinality, d bottleneck width of one group in stage 1 (doubling per stage), w the
/// widen factor, S the stem's channels (64): stage s (0, 1, 2) outputs S w 2^s channels (256,
/// 512, 1024 for the paper's w = 4) and its grouped 3x3 has G groups of d 2^s channels.
#include <cstddef>
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief The knobs of ResNeXt-29: "8x64d" is cardinality 8, bottleneck_width 64.
struct ResNeXt29Options {
  std::size_t cardinality = 8;        ///< G, the groups of every 3x3
  std::size_t bottleneck_width = 64;  ///< d, channels per group in stage 1
  std::size_t widen_factor = 4;       ///< w: the stages output 64 w, 128 w, 256 w channels
  std::size_t num_classes = 10;       ///< outputs of fc
  std::size_t stem_channels = 64;     ///< S; smaller only for tests (a tiny twin of the net)

  /// @brief "resnext29_8x64d" (with "_w1" etc. when widen_factor is not 4).
  std::string name() const;
  /// @brief Stage 1's planes, S w / 4 (the block outputs 4 planes).
  std::size_t planes() const { return stem_channels * widen_factor / 4; }
  /// @brief torchvision's base_width for these options: 64 d / planes, the same in every stage
  /// (planes and d both double), so that the Bottleneck's width formula gives G d 2^s.
  std::size_t base_width() const;
  /// @throws Error naming the option when a size is 0, when S w is not a multiple of 4, or when
  ///   64 d is not a multiple of the planes (the groups could not have d channels with chapter
  ///   10's integer width formula).
  void validate() const;
};

/// @brief ResNeXt-29 (G x d, widen w) with convbook's CIFAR names: conv1, bn1, relu, layer1,
/// layer2, layer3 (each 3 Bottlenecks; the first of each gets a conv1x1 + BN downsample when
/// it strides or changes the channels), avgpool, flatten, fc.
/// @throws Error on invalid options (ResNeXt29Options::validate).
ModulePtr resnext29(const ResNeXt29Options& options);

}  // namespace convbook
