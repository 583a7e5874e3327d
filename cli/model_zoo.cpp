#include "cli/model_zoo.hpp"

#include "chapters/00_framework/small_cnn.hpp"
#include "chapters/05_shuffle/shufflenet.hpp"
#include "convbook/error.hpp"

namespace convbook::cli {

const std::vector<ModelEntry>& model_zoo() {
  // Later chapters add their models here, in book order.
  static const std::vector<ModelEntry> zoo = {
      {"small_cnn", "00_framework",
       "3 stages of 2 conv3x3-BN-ReLU (16-32-64 channels), max-pool, global avg-pool, linear",
       [](std::size_t k) { return small_cnn(k); }},
      {"shufflenet_v1_cifar", "05_shuffle",
       "ShuffleNet v1 0.5x, g=3: conv3x3 stem, 3 stages of shuffle units (120-240-480), linear",
       [](std::size_t k) { return shufflenet_v1_cifar(k); }},
      {"shufflenet_v1_cifar_noshuffle", "05_shuffle",
       "the same network without the channel shuffle (the paper's ablation)",
       [](std::size_t k) { return shufflenet_v1_cifar(k, false); }},
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
