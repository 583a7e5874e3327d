#pragma once
/// @file model_zoo.hpp
/// @brief Model names the CLI accepts, mapped to their factories.
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/module.hpp"

namespace convbook::cli {

/// @brief A model the CLI can build.
struct ModelEntry {
  std::string name;         ///< the --model value (torchvision's name where one exists)
  std::string chapter;      ///< where the book builds it, e.g. "00_framework"
  std::string description;  ///< one line for `convbook models`
  ModulePtr (*make)(std::size_t num_classes);  ///< the factory
};

/// @brief Every model, in book order.
const std::vector<ModelEntry>& model_zoo();
/// @brief The entry called `name`.
/// @throws Error naming `name` and listing the known names.
const ModelEntry& find_model(const std::string& name);
/// @brief Builds model `name` for `num_classes` classes (weights from global_rng()).
ModulePtr make_model(const std::string& name, std::size_t num_classes = 10);

}  // namespace convbook::cli
