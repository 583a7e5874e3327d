#include "cli/forward.hpp"

#include <omp.h>

#include <algorithm>

#include "chapters/10_resnet/interop.hpp"
#include "chapters/10_resnet/resnet.hpp"
#include "cli/model_zoo.hpp"
#include "convbook/error.hpp"
#include "convbook/io/checkpoint.hpp"
#include "convbook/random.hpp"

namespace convbook::cli {

ForwardCommand::ForwardCommand(CLI::App& app) {
  cmd_ = app.add_subcommand(
      "forward",
      "one eval-mode forward: weights and input from safetensors, output to safetensors");
  cmd_->add_option("--model", model_, "model name (see `convbook models`)")->required();
  cmd_->add_option("--num-classes", num_classes_,
                   "outputs of the classifier (default: 1000 for torchvision's ImageNet models, "
                   "10 for the others)");
  cmd_->add_option("--weights", weights_,
                   "state_dict as safetensors, torchvision's names (a convbook checkpoint or a "
                   "torchvision model saved with safetensors)")
      ->required();
  cmd_->add_option("--input", input_, "safetensors file with one tensor (N, C, H, W), any key")
      ->required();
  cmd_->add_option("--output", output_, "safetensors file to write, key \"output\"")->required();
  cmd_->add_option("--threads", threads_, "OpenMP threads (0: all cores)")->capture_default_str();
}

int ForwardCommand::run(std::ostream& out) const {
  if (threads_ < 0) throw Error("--threads=" + std::to_string(threads_) + ", expected >= 0");
  if (threads_ > 0) omp_set_num_threads(threads_);
  find_model(model_);  // an unknown name fails before any file is read
  const std::vector<std::string>& imagenet = torchvision_resnet_names();
  const bool is_imagenet = std::find(imagenet.begin(), imagenet.end(), model_) != imagenet.end();
  const std::size_t k = num_classes_ != 0 ? num_classes_ : (is_imagenet ? 1000 : 10);
  const Tensor x = read_single_tensor(input_);
  manual_seed(0);
  ModulePtr m = make_model(model_, k);
  load_checkpoint(weights_, *m);
  const Tensor y = forward_eval(*m, x);
  write_output(output_, y);
  out << model_ << " (" << k << " classes): " << to_string(shape_of(x)) << " -> "
      << to_string(shape_of(y)) << ", wrote " << output_ << "\n";
  return 0;
}

}  // namespace convbook::cli
