#pragma once
/// @file forward.hpp
/// @brief `convbook forward`: one eval-mode forward of a model with given weights on a given
/// input, all safetensors, for checking convbook against torchvision (chapter 10).
#include <CLI/CLI.hpp>
#include <cstddef>
#include <ostream>
#include <string>

namespace convbook::cli {

/// @brief The `forward` subcommand and its options.
///
/// @code
/// convbook forward --model resnet50 --weights resnet50.safetensors --input x.safetensors
///                  --output y.safetensors
/// @endcode
class ForwardCommand {
 public:
  /// @brief Adds `forward` with --model, --num-classes, --weights, --input, --output and
  /// --threads to `app`.
  explicit ForwardCommand(CLI::App& app);
  /// @brief True when the command line chose `forward` (call after app.parse).
  bool selected() const { return cmd_->parsed(); }
  /// @brief Builds the model, loads the weights (strictly), runs the input through it in eval
  /// mode and writes the output under the key "output"; prints one summary line to `out`.
  /// @return the exit code (0)
  /// @throws Error on an unknown model, a missing or unreadable file, weights that do not match
  ///   the model (keys and shapes named), or an input that is not one (N, C, H, W) tensor with
  ///   the model's channels.
  int run(std::ostream& out) const;

 private:
  CLI::App* cmd_ = nullptr;
  std::string model_, weights_, input_, output_;
  std::size_t num_classes_ = 0;  // 0: 1000 for torchvision's ImageNet models, else 10
  int threads_ = 0;
};

}  // namespace convbook::cli
