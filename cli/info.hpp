#pragma once
/// @file info.hpp
/// @brief `convbook info`: a model's layers with output shapes, parameters and FLOPs.
#include <string>

#include "convbook/module.hpp"
#include "convbook/tensor.hpp"

namespace convbook::cli {

/// @brief Parses "3x32x32" (C x H x W) into the batch-1 shape (1, 3, 32, 32).
/// @throws Error naming the text and the expected form.
Shape parse_input_shape(const std::string& text);

/// @brief The layer table of `model` for one input of shape `input` (batch 1, eval mode):
/// one row per child of the top-level Sequential (and, indented, per child of nested
/// Sequentials) with name, repr, output shape, parameters and FLOPs, then the totals.
/// For a model that is not a Sequential, rows list its children without output shapes.
std::string layer_table(Module& model, const Shape& input);

}  // namespace convbook::cli
