#include "chapters/05_shuffle/shufflenet.hpp"

#include "chapters/05_shuffle/shuffle_unit.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

//! [shufflenet-cifar]
ModulePtr shufflenet_v1_cifar(std::size_t num_classes, bool shuffle) {
  if (num_classes == 0) throw Error("shufflenet_v1_cifar: num_classes=0, expected at least 1");
  constexpr std::size_t G = 3;
  auto net = std::make_unique<Sequential>();
  net->add("conv1", std::make_unique<Conv2d>(Conv2dOptions(3, 24, 3).padding(1).bias(false)));
  net->add("bn1", std::make_unique<BatchNorm2d>(24));
  net->add("relu", std::make_unique<ReLU>());  // (N, 24, 32, 32)
  // A stage: one stride-2 unit (pool + concat) that halves the image, then stride-1 units.
  std::size_t in = 24;
  auto stage = [&](const char* name, std::size_t out, std::size_t units, bool group_first) {
    auto s = std::make_unique<Sequential>();
    s->emplace<ShuffleUnit>(
        ShuffleUnitOptions(in, out).stride(2).groups(G).shuffle(shuffle).group_first_conv(
            group_first));
    for (std::size_t i = 1; i < units; ++i) {
      s->emplace<ShuffleUnit>(ShuffleUnitOptions(out, out).groups(G).shuffle(shuffle));
    }
    net->add(name, std::move(s));
    in = out;
  };
  stage("stage2", 120, 2, false);  // (N, 120, 16, 16); conv1 of its first unit is dense
  stage("stage3", 240, 3, true);   // (N, 240, 8, 8)
  stage("stage4", 480, 2, true);   // (N, 480, 4, 4)
  net->add("avgpool", std::make_unique<AdaptiveAvgPool2d>(1));
  net->add("flatten", std::make_unique<Flatten>());
  net->add("fc", std::make_unique<Linear>(480, num_classes));
  return net;
}
//! [shufflenet-cifar]

}  // namespace convbook
