#include "cli/model_zoo.hpp"

#include "chapters/00_framework/small_cnn.hpp"
#include "chapters/02_pointwise/channel_mixing.hpp"
#include "chapters/02_pointwise/nin.hpp"
#include "chapters/04_grouped/grouped_models.hpp"
#include "chapters/05_shuffle/shufflenet.hpp"
#include "chapters/06_separable/mobilenet_cifar.hpp"
#include "chapters/07_dilated/dilated_net.hpp"
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
