#include "cli/model_zoo.hpp"

#include "chapters/00_framework/small_cnn.hpp"
#include "chapters/02_pointwise/channel_mixing.hpp"
#include "chapters/02_pointwise/nin.hpp"
#include "chapters/03_inception/googlenet_cifar.hpp"
#include "chapters/04_grouped/grouped_models.hpp"
#include "chapters/05_shuffle/shufflenet.hpp"
#include "chapters/06_separable/mobilenet_cifar.hpp"
#include "chapters/07_dilated/dilated_net.hpp"
#include "chapters/08_deformable/deform_net.hpp"
#include "chapters/09_attention/attention_cnn.hpp"
#include "chapters/09_attention/sk_models.hpp"
#include "chapters/10_resnet/resnet.hpp"
#include "chapters/11_resnext/resnext29.hpp"
#include "chapters/11_resnext/resnext_forms.hpp"
#include "chapters/12_wide_resnet/wide_resnet.hpp"
#include "chapters/13_shake_shake/shake_shake_net.hpp"
#include "convbook/error.hpp"

namespace convbook::cli {

const std::vector<ModelEntry>& model_zoo() {
  // Later chapters add their models here, in book order.
  static const std::vector<ModelEntry> zoo = {
      {"small_cnn", "00_framework",
       "3 stages of 2 conv3x3-BN-ReLU (16-32-64 channels), max-pool, global avg-pool, linear",
       [](std::size_t k) { return small_cnn(k); }},
      {"nin_cifar", "02_pointwise",
       "3 NiN blocks (conv3x3 + two 1x1, BN-ReLU; 32-64-128 wide), max-pool, 10 maps, global "
       "avg-pool",
       [](std::size_t k) { return nin_cifar(k); }},
      {"nin_cifar_plain", "02_pointwise",
       "nin_cifar without BatchNorm: the 2014 blocks (conv-ReLU, 1x1-ReLU, 1x1-ReLU)",
       [](std::size_t k) { return nin_cifar(k, false); }},
      {"conv3x3_256", "02_pointwise",
       "cost table only (info --input 256x8x8): one conv3x3 256->256, no bias",
       [](std::size_t) { return conv3x3_stack(256); }},
      {"bottleneck_256", "02_pointwise",
       "cost table only (info --input 256x8x8): conv1x1 256->64, conv3x3 64->64, conv1x1 64->256",
       [](std::size_t) { return bottleneck_stack(256, 64); }},
      {"googlenet_cifar", "03_inception",
       "conv3x3 3->48, max-pool, Inception 3a-3b (64, 120 wide) at 16x16, max-pool, 4a-4b (128) "
       "at 8x8, global avg-pool, linear",
       [](std::size_t k) { return googlenet_cifar(k); }},
      {"inception3a", "03_inception",
       "cost table only (info --input 192x28x28): GoogLeNet's inception (3a), fig. 2b",
       [](std::size_t) { return inception3a_block(true); }},
      {"inception3a_naive", "03_inception",
       "cost table only (info --input 192x28x28): (3a)'s widths without reductions, fig. 2a",
       [](std::size_t) { return inception3a_block(false); }},
      {"grouped_cnn", "04_grouped",
       "3 stages (32-64-128): dense conv3x3 then a grouped conv3x3 (g=8), BN-ReLU, max-pool, "
       "global avg-pool, linear",
       [](std::size_t k) { return grouped_cnn(k, 8); }},
      {"grouped_cnn_dense", "04_grouped", "grouped_cnn with groups=1 (the dense baseline)",
       [](std::size_t k) { return grouped_cnn(k, 1); }},
      {"conv3x3_128_g1", "04_grouped",
       "cost table only (info --input 128x16x16): one conv3x3 128->128, groups=1, no bias",
       [](std::size_t) { return grouped_conv3x3_stack(128, 1); }},
      {"conv3x3_128_g2", "04_grouped",
       "cost table only (info --input 128x16x16): one conv3x3 128->128, groups=2, no bias",
       [](std::size_t) { return grouped_conv3x3_stack(128, 2); }},
      {"conv3x3_128_g4", "04_grouped",
       "cost table only (info --input 128x16x16): one conv3x3 128->128, groups=4, no bias",
       [](std::size_t) { return grouped_conv3x3_stack(128, 4); }},
      {"conv3x3_128_g8", "04_grouped",
       "cost table only (info --input 128x16x16): one conv3x3 128->128, groups=8, no bias",
       [](std::size_t) { return grouped_conv3x3_stack(128, 8); }},
      {"conv3x3_128_g32", "04_grouped",
       "cost table only (info --input 128x16x16): one conv3x3 128->128, groups=32, no bias",
       [](std::size_t) { return grouped_conv3x3_stack(128, 32); }},
      {"conv3x3_128_g128", "04_grouped",
       "cost table only (info --input 128x16x16): one conv3x3 128->128, groups=128, no bias",
       [](std::size_t) { return grouped_conv3x3_stack(128, 128); }},
      {"alexnet_conv2_g1", "04_grouped",
       "cost table only (info --input 96x27x27): AlexNet conv2 96->256 5x5, groups=1",
       [](std::size_t) { return alexnet_conv2(1); }},
      {"alexnet_conv2_g2", "04_grouped",
       "cost table only (info --input 96x27x27): AlexNet conv2 96->256 5x5, groups=2",
       [](std::size_t) { return alexnet_conv2(2); }},
      {"shufflenet_v1_cifar", "05_shuffle",
       "ShuffleNet v1 0.5x, g=3: conv3x3 stem, 3 stages of shuffle units (120-240-480), linear",
       [](std::size_t k) { return shufflenet_v1_cifar(k); }},
      {"shufflenet_v1_cifar_noshuffle", "05_shuffle",
       "the same network without the channel shuffle (the paper's ablation)",
       [](std::size_t k) { return shufflenet_v1_cifar(k, false); }},
      {"mobilenet_cifar", "06_separable",
       "conv3x3 stem 3->32, 5 depthwise-separable blocks (dw3x3-BN-ReLU-pw1x1-BN-ReLU; 64-128-"
       "128-256-256, two stride 2), global avg-pool, linear",
       [](std::size_t k) { return mobilenet_cifar(k); }},
      {"mobilenet_cifar_dense", "06_separable",
       "cost table only (info): mobilenet_cifar with each block one dense conv3x3-BN-ReLU",
       [](std::size_t k) { return mobilenet_cifar(k, false); }},
      {"dilated_cifar", "07_dilated",
       "conv3x3 3->32, max-pool, 3 dilated conv3x3 (d = 1, 2, 5; 64 wide) at 16x16, max-pool, "
       "conv3x3 64->128, global avg-pool, linear",
       [](std::size_t k) { return dilated_cifar(k, {1, 2, 5}); }},
      {"dilated_cifar_222", "07_dilated",
       "dilated_cifar with dilations (2, 2, 2): the gridding stack",
       [](std::size_t k) { return dilated_cifar(k, {2, 2, 2}); }},
      {"dilated_cifar_111", "07_dilated",
       "dilated_cifar with dilations (1, 1, 1): the undilated baseline",
       [](std::size_t k) { return dilated_cifar(k, {1, 1, 1}); }},
      {"deform_cifar", "08_deformable",
       "conv3x3 3->32, max-pool, conv3x3 32->64, conv3x3 64->64, max-pool, deformable v2 "
       "conv3x3 64->128 (8x8), global avg-pool, linear",
       [](std::size_t k) { return deform_cifar(k, DeformMode::V2); }},
      {"deform_cifar_v1", "08_deformable", "deform_cifar with a DCNv1 layer (offsets, no mask)",
       [](std::size_t k) { return deform_cifar(k, DeformMode::V1); }},
      {"deform_cifar_regular", "08_deformable",
       "deform_cifar with a regular conv3x3 (the baseline)",
       [](std::size_t k) { return deform_cifar(k, DeformMode::Regular); }},
      {"deform_conv3x3_64", "08_deformable",
       "cost table only (info --input 64x16x16): one deformable v2 conv3x3 64->64, no bias",
       [](std::size_t) { return deform_conv3x3_stack(64, DeformMode::V2); }},
      {"se_cnn", "09_attention",
       "small_cnn with a squeeze-and-excitation block (r = 4) after each stage",
       [](std::size_t k) { return attention_cnn(k, StageAttention::SE); }},
      {"cbam_cnn", "09_attention",
       "small_cnn with a CBAM block (r = 4, 7x7 spatial gate) after each stage",
       [](std::size_t k) { return attention_cnn(k, StageAttention::CBAM); }},
      {"sk_cifar", "09_attention",
       "conv3x3 3->32, max-pool, SK block 32->64 (2 branches: 3x3 dilation 1 and 2, groups 4), "
       "max-pool, SK block 64->128, global avg-pool, linear",
       [](std::size_t k) { return sk_cifar(k); }},
      {"splat_cifar", "09_attention",
       "sk_cifar's skeleton with ResNeSt split-attention blocks (3x3, radix 2, cardinality 2)",
       [](std::size_t k) { return splat_cifar(k, 2, 2); }},
      {"splat_cifar_r1", "09_attention",
       "splat_cifar with radix 1: a sigmoid (SE-like) gate per cardinal group",
       [](std::size_t k) { return splat_cifar(k, 1, 2); }},
      // chapter 10: the CIFAR ResNets (trainable), then torchvision's ImageNet ResNets (for info
      // and forward; train accepts them too, but their 7x7/2 stem and max-pool leave 1x1 maps in
      // layer4 of a 32x32 image).
      {"resnet20", "10_resnet",
       "CIFAR ResNet-20 (He et al. 2016): 3x3 BasicBlocks, 16-32-64, option A",
       [](std::size_t k) { return cifar_resnet(20, CifarShortcut::A, k); }},
      {"resnet20_b", "10_resnet", "CIFAR ResNet-20 with option B (conv1x1 + BN) projections",
       [](std::size_t k) { return cifar_resnet(20, CifarShortcut::B, k); }},
      {"resnet32", "10_resnet", "CIFAR ResNet-32, option A",
       [](std::size_t k) { return cifar_resnet(32, CifarShortcut::A, k); }},
      {"resnet44", "10_resnet", "CIFAR ResNet-44, option A",
       [](std::size_t k) { return cifar_resnet(44, CifarShortcut::A, k); }},
      {"resnet56", "10_resnet", "CIFAR ResNet-56, option A",
       [](std::size_t k) { return cifar_resnet(56, CifarShortcut::A, k); }},
      {"resnet110", "10_resnet", "CIFAR ResNet-110, option A",
       [](std::size_t k) { return cifar_resnet(110, CifarShortcut::A, k); }},
      {"resnet18", "10_resnet", "torchvision resnet18: BasicBlock [2, 2, 2, 2] (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("resnet18", k); }},
      {"resnet34", "10_resnet", "torchvision resnet34: BasicBlock [3, 4, 6, 3] (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("resnet34", k); }},
      {"resnet50", "10_resnet", "torchvision resnet50: Bottleneck [3, 4, 6, 3] (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("resnet50", k); }},
      {"resnet101", "10_resnet", "torchvision resnet101: Bottleneck [3, 4, 23, 3] (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("resnet101", k); }},
      {"resnet152", "10_resnet", "torchvision resnet152: Bottleneck [3, 8, 36, 3] (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("resnet152", k); }},
      {"resnext50_32x4d", "10_resnet",
       "torchvision resnext50_32x4d: Bottleneck [3, 4, 6, 3], 32 groups of 4 (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("resnext50_32x4d", k); }},
      {"resnext101_32x8d", "10_resnet",
       "torchvision resnext101_32x8d: Bottleneck [3, 4, 23, 3], 32 groups of 8 (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("resnext101_32x8d", k); }},
      {"wide_resnet50_2", "10_resnet",
       "torchvision wide_resnet50_2: Bottleneck [3, 4, 6, 3], 3x3s twice as wide (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("wide_resnet50_2", k); }},
      {"wide_resnet101_2", "10_resnet",
       "torchvision wide_resnet101_2: Bottleneck [3, 4, 23, 3], 3x3s twice as wide (ImageNet stem)",
       [](std::size_t k) { return torchvision_resnet("wide_resnet101_2", k); }},
      // chapter 11: ResNeXt-29 for CIFAR (the paper's two, a small one, a narrow one that
      // trains on 2 cores), then the blocks of the cardinality-vs-width table and of the
      // three equivalent forms (cost tables: convbook info --input 256x56x56).
      {"resnext29_8x64d", "11_resnext",
       "ResNeXt-29 8x64d (Xie et al. 2017): conv3x3 64, 3 stages x 3 grouped bottlenecks "
       "(256-512-1024 out, 8 groups of 64-128-256)",
       [](std::size_t k) { return resnext29({8, 64, 4, k}); }},
      {"resnext29_16x64d", "11_resnext", "ResNeXt-29 16x64d: 16 groups of 64-128-256",
       [](std::size_t k) { return resnext29({16, 64, 4, k}); }},
      {"resnext29_4x16d", "11_resnext",
       "ResNeXt-29 4x16d: the paper's shape (256-512-1024 out), 4 groups of 16-32-64",
       [](std::size_t k) { return resnext29({4, 16, 4, k}); }},
      {"resnext29_4x16d_w1", "11_resnext",
       "resnext29_4x16d with widen factor 1: blocks output 64-128-256, same grouped 3x3s",
       [](std::size_t k) { return resnext29({4, 16, 1, k}); }},
      {"resnext_block_1x64d", "11_resnext",
       "cost table only (info --input 256x56x56): form (c) block 256->256, 1 group of 64",
       [](std::size_t) { return resnext_block(ResNeXtForm::C, {256, 256, 1, 64}); }},
      {"resnext_block_2x40d", "11_resnext",
       "cost table only (info --input 256x56x56): form (c) block 256->256, 2 groups of 40",
       [](std::size_t) { return resnext_block(ResNeXtForm::C, {256, 256, 2, 40}); }},
      {"resnext_block_4x24d", "11_resnext",
       "cost table only (info --input 256x56x56): form (c) block 256->256, 4 groups of 24",
       [](std::size_t) { return resnext_block(ResNeXtForm::C, {256, 256, 4, 24}); }},
      {"resnext_block_8x14d", "11_resnext",
       "cost table only (info --input 256x56x56): form (c) block 256->256, 8 groups of 14",
       [](std::size_t) { return resnext_block(ResNeXtForm::C, {256, 256, 8, 14}); }},
      {"resnext_block_32x4d", "11_resnext",
       "cost table only (info --input 256x56x56): form (c) block 256->256, 32 groups of 4",
       [](std::size_t) { return resnext_block(ResNeXtForm::C, {256, 256, 32, 4}); }},
      {"resnext_block_32x4d_a", "11_resnext",
       "cost table only (info --input 256x56x56): the 32x4d block in form (a), 32 paths summed",
       [](std::size_t) { return resnext_block(ResNeXtForm::A, {256, 256, 32, 4}); }},
      {"resnext_block_32x4d_b", "11_resnext",
       "cost table only (info --input 256x56x56): the 32x4d block in form (b), 32 paths concatenated, one 1x1",
       [](std::size_t) { return resnext_block(ResNeXtForm::B, {256, 256, 32, 4}); }},
      {"resnext_block_inception3a", "11_resnext",
       "cost table only (info --input 192x28x28): form (b) 192->256, 32x4d, beside inception3a",
       [](std::size_t) { return resnext_block(ResNeXtForm::B, {192, 256, 32, 4}); }},
      // chapter 12: Wide ResNets (Zagoruyko & Komodakis 2016), pre-activation B(3,3) blocks.
      {"wrn16_4", "12_wide_resnet",
       "WRN-16-4: 2 pre-activation B(3,3) blocks per group, 64-128-256 wide, 2.7M parameters",
       [](std::size_t k) { return wide_resnet(16, 4, 0.0, k); }},
      {"wrn16_4_drop0.3", "12_wide_resnet", "WRN-16-4 with dropout 0.3 between the two convs",
       [](std::size_t k) { return wide_resnet(16, 4, 0.3, k); }},
      {"wrn16_8", "12_wide_resnet", "WRN-16-8: 128-256-512 wide, 11.0M parameters",
       [](std::size_t k) { return wide_resnet(16, 8, 0.0, k); }},
      {"wrn28_10", "12_wide_resnet", "WRN-28-10: 4 blocks per group, 160-320-640, 36.5M parameters",
       [](std::size_t k) { return wide_resnet(28, 10, 0.0, k); }},
      {"wrn28_10_drop0.3", "12_wide_resnet", "WRN-28-10 with dropout 0.3 between the two convs",
       [](std::size_t k) { return wide_resnet(28, 10, 0.3, k); }},
      // chapter 13: Shake-Shake (Gastaldi 2017), Shake-Shake-Image unless the name says otherwise
      {"shake_shake26_2x32d", "13_shake_shake",
       "Shake-Shake-26 2x32d: 3 stages of 4 two-branch blocks (32-64-128), S-S-I, 2.9M params",
       [](std::size_t k) { return shake_shake_cifar(26, 32, {}, k); }},
      {"shake_shake26_2x96d", "13_shake_shake",
       "Shake-Shake-26 2x96d: as 2x32d with widths 96-192-384, 26.2M params",
       [](std::size_t k) { return shake_shake_cifar(26, 96, {}, k); }},
      {"shake_shake14_2x16d", "13_shake_shake",
       "Shake-Shake-14 2x16d: 3 stages of 2 two-branch blocks (16-32-64), S-S-I (for 2 cores)",
       [](std::size_t k) { return shake_shake_cifar(14, 16, {}, k); }},
      {"shake_shake14_2x16d_even", "13_shake_shake",
       "shake_shake14_2x16d with alpha = beta = 0.5 (Even-Even: no shaking, the baseline)",
       [](std::size_t k) {
         return shake_shake_cifar(14, 16, {ShakeForward::Even, ShakeBackward::Even}, k);
       }},
  };
  return zoo;
}

const ModelEntry& find_model(const std::string& name) {
  std::string known;
  for (const ModelEntry& e : model_zoo()) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  throw Error("--model: unknown model '" + name + "', expected one of: " + known +
              " (see `convbook models`)");
}

ModulePtr make_model(const std::string& name, std::size_t num_classes) {
  return find_model(name).make(num_classes);
}

}  // namespace convbook::cli
