#include "chapters/11_resnext/resnext29.hpp"

#include <memory>
#include <utility>

#include "chapters/10_resnet/resnet.hpp"
#include "chapters/10_resnet/resnet_blocks.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

std::string ResNeXt29Options::name() const {
  return "resnext29_" + std::to_string(cardinality) + "x" + std::to_string(bottleneck_width) + "d" +
         (widen_factor == 4 ? std::string() : "_w" + std::to_string(widen_factor));
}

std::size_t ResNeXt29Options::base_width() const {
  return 64 * bottleneck_width / planes();
}

void ResNeXt29Options::validate() const {
  const std::pair<const char*, std::size_t> sizes[] = {{"cardinality", cardinality},
                                                       {"bottleneck_width", bottleneck_width},
                                                       {"widen_factor", widen_factor},
                                                       {"num_classes", num_classes},
                                                       {"stem_channels", stem_channels}};
  for (const auto& [option, value] : sizes) {
    if (value == 0) throw Error(name() + ": " + option + "=0, expected at least 1");
  }
  if (stem_channels * widen_factor % 4 != 0) {
    throw Error(name() +
                ": stem_channels * widen_factor=" + std::to_string(stem_channels * widen_factor) +
                " is not a multiple of 4, the Bottleneck's expansion");
  }
  if (64 * bottleneck_width % planes() != 0) {
    throw Error(name() + ": 64 * bottleneck_width=" + std::to_string(64 * bottleneck_width) +
                " is not a multiple of stage 1's planes=" + std::to_string(planes()) +
                ", so no base_width gives groups of d=" + std::to_string(bottleneck_width) +
                " channels (planes = stem_channels * widen_factor / 4)");
  }
}

//! [resnext29]
ModulePtr resnext29(const ResNeXt29Options& o) {
  o.validate();
  auto net = std::make_unique<Sequential>();
  std::size_t inplanes = o.stem_channels;  // the stem: one 3x3, no stride, no max-pool at 32x32
  net->add("conv1", std::make_unique<Conv2d>(conv3x3(3, inplanes)));
  net->add("bn1", std::make_unique<BatchNorm2d>(inplanes));
  net->add("relu", std::make_unique<ReLU>());
  for (std::size_t stage = 0; stage < 3; ++stage) {
    // planes = S w 2^s / 4: the block outputs 4 planes = S w 2^s, and its 3x3 has G groups of
    // planes * base_width / 64 = d 2^s channels: width and resolution trade 2 for 2 per stage.
    const std::size_t planes = o.planes() << stage;
    const std::size_t out = planes * Bottleneck::expansion;
    auto layer = std::make_unique<Sequential>();
    for (std::size_t i = 0; i < 3; ++i) {
      const std::size_t stride = stage > 0 && i == 0 ? 2 : 1;
      ModulePtr downsample;
      if (stride != 1 || inplanes != out) downsample = projection_shortcut(inplanes, out, stride);
      layer->push_back(std::make_unique<Bottleneck>(inplanes, planes, stride, std::move(downsample),
                                                    o.cardinality, o.base_width()));
      inplanes = out;
    }
    net->add("layer" + std::to_string(stage + 1), std::move(layer));
  }
  add_classifier(*net, inplanes, o.num_classes);  // chapter 10's avgpool, flatten, fc
  return net;
}
//! [resnext29]

}  // namespace convbook
