/// @file attention_cnn.cpp
/// @brief small_cnn with SE or CBAM blocks after each stage.
#include "chapters/09_attention/attention_cnn.hpp"

#include <memory>

#include "chapters/09_attention/cbam.hpp"
#include "chapters/09_attention/squeeze_excitation.hpp"
#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/flatten.hpp"
#include "convbook/layers/linear.hpp"
#include "convbook/layers/pooling.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

//! [attention-cnn]
ModulePtr attention_cnn(std::size_t num_classes, StageAttention attention, std::size_t reduction) {
  if (num_classes == 0) throw Error("attention_cnn: num_classes=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  std::size_t in = 3;
  for (std::size_t width : {16, 32, 64}) {  // (N, width, 32 / 2^stage, 32 / 2^stage)
    if (in != 3) net->emplace<MaxPool2d>(2);
    for (int layer = 0; layer < 2; ++layer) {
      net->emplace<Conv2d>(Conv2dOptions(in, width, 3).padding(1).bias(false));
      net->emplace<BatchNorm2d>(width);
      net->emplace<ReLU>();
      in = width;
    }
    if (attention == StageAttention::SE) net->emplace<SqueezeExcitation>(width, reduction);
    if (attention == StageAttention::CBAM) net->emplace<CBAM>(width, reduction, 7);
  }
  net->emplace<AdaptiveAvgPool2d>(1);
  net->emplace<Flatten>();
  net->emplace<Linear>(64, num_classes);
  return net;
}
//! [attention-cnn]

}  // namespace convbook
