#pragma once
/// @file checkpoint.hpp
/// @brief A module's parameters and buffers as a state_dict, saved as safetensors.
///
/// Names and shapes are PyTorch's (`layer1.0.conv1.weight`, {K, C, R, S}), so a convbook
/// checkpoint loads into the same torchvision model with `model.load_state_dict(load_file(p))`
/// and a torchvision state_dict saved as safetensors loads here.
#include <map>
#include <string>

#include "convbook/io/safetensors.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief Every parameter and buffer of `m` under its state_dict name and PyTorch shape, as F32.
///
/// BatchNorm's step counter, a buffer named "...num_batches_tracked" of shape {1}, is written as
/// PyTorch has it: a 0-d I64 tensor.
/// @throws Error when two parameters share a name.
TensorMap state_dict(Module& m);

/// @brief Copies `tensors` into the parameters and buffers of `m`, strictly.
///
/// Nothing is changed unless every key matches: the error lists the missing keys, the
/// unexpected keys and the shape mismatches (name, shape found, shape expected). Any numeric
/// dtype is accepted and converted; "num_batches_tracked" may be 0-d or {1}.
/// @throws Error describing every mismatch.
void load_state_dict(Module& m, const TensorMap& tensors);

/// @brief Writes state_dict(m) and `metadata` to `path` atomically (see write_safetensors).
void save_checkpoint(const std::string& path, Module& m,
                     const std::map<std::string, std::string>& metadata = {});

/// @brief Loads a checkpoint written by save_checkpoint (or by PyTorch) into `m`.
/// @return the file's metadata (e.g. epoch, model name)
/// @throws Error naming the file on any read or load_state_dict failure.
std::map<std::string, std::string> load_checkpoint(const std::string& path, Module& m);

}  // namespace convbook
