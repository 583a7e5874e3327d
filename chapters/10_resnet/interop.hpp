#pragma once
/// @file interop.hpp
/// @brief One eval-mode forward from safetensors files to a safetensors file: what
/// `convbook forward` runs, and what the torchvision interop tests check.
///
/// Weights are a state_dict with torchvision's names (load_checkpoint, strict); the input is a
/// file with one tensor (N, C, H, W) under any key; the output is written under the key
/// "output" with PyTorch's shape of the logits, (N, K).
#include <cstddef>
#include <string>

#include "convbook/module.hpp"

namespace convbook {

/// @brief The one tensor stored in the safetensors file `path`, as (N, C, H, W).
/// @throws Error naming the file when it cannot be read, holds zero or several tensors (the
///   keys are listed), or the tensor is not 4-D (rank found, (N, C, H, W) expected).
Tensor read_single_tensor(const std::string& path);

/// @brief The input channels `m` expects: those of its first Conv2d (depth first, in
/// registration order); 0 when it has none.
std::size_t input_channels(Module& m);

/// @brief y = m(x) in evaluation mode (BatchNorm with running statistics).
/// @throws Error when x's channels differ from input_channels(m) (found and expected named).
Tensor forward_eval(Module& m, const Tensor& x);

/// @brief Writes y under the key "output": (N, K) when y is (N, K, 1, 1) as logits are, else
/// its 4-D shape. Atomic (write_safetensors).
void write_output(const std::string& path, const Tensor& y);

}  // namespace convbook
