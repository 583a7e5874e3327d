#pragma once
/// @file safetensors.hpp
/// @brief Reading and writing safetensors files, convbook's checkpoint and fixture format.
///
/// A safetensors file is three parts (https://github.com/huggingface/safetensors):
/// - 8 bytes: the header length L as a little-endian unsigned 64-bit integer;
/// - L bytes: a JSON object mapping each tensor name to
///   `{"dtype": "F32", "shape": [K, C], "data_offsets": [begin, end]}`, plus an optional
///   `"__metadata__"` object of string to string; padded with spaces to a multiple of 8;
/// - the data: every tensor's raw little-endian bytes, row-major, at `begin..end` counted from
///   the first byte after the header.
///
/// PyTorch users read our checkpoints with `safetensors.torch.load_file` as they are.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "convbook/tensor.hpp"

namespace convbook {

/// @brief One tensor as stored in a file: its dtype, its shape (any rank) and its values.
///
/// Values are kept as double whatever the dtype, so one type carries F32, F64, I64 and I32
/// tensors (integers up to 2^53 are exact, far beyond a step counter).
struct StoredTensor {
  std::string dtype = "F32";       ///< what the file had / what to write: F32, F64, I64 or I32
  std::vector<std::size_t> shape;  ///< PyTorch's shape; empty for a 0-d (scalar) tensor
  std::vector<double> data;        ///< the values, row-major; size = product of shape
};

/// @brief Tensors by name; std::map keeps names sorted as safetensors writers do.
using TensorMap = std::map<std::string, StoredTensor>;

/// @brief The whole content of a safetensors file.
struct SafetensorsFile {
  TensorMap tensors;                            ///< every tensor by name
  std::map<std::string, std::string> metadata;  ///< the "__metadata__" entries (may be empty)
};

/// @brief Reads a safetensors file.
/// @param path the file
/// @return its tensors and metadata
/// @throws Error naming the file when it is missing, shorter than 8 bytes, has a header length
///   beyond the file, a header that is not a JSON object, an entry without dtype/shape/
///   data_offsets, an unknown dtype, or offsets that disagree with shape x dtype size or lie
///   beyond the data.
SafetensorsFile read_safetensors(const std::string& path);

/// @brief Writes tensors (and metadata) to a safetensors file, atomically.
///
/// The bytes go to `path + ".tmp"`, are flushed to disk (fsync), then renamed over `path`: a
/// crash leaves either the old file or the new one, never a half-written one.
/// @param path the file to create or replace
/// @param tensors what to write; each tensor's data size must equal the product of its shape
/// @param metadata optional string pairs stored under "__metadata__"
/// @throws Error on an unknown dtype, a data size that does not match the shape, or an I/O
///   failure (the temporary file is removed).
void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// @brief A stored tensor as a 4-D Tensor: rank 0..4 padded with trailing 1s.
/// @throws Error when the rank is above 4.
Tensor to_tensor(const StoredTensor& t);

/// @brief A Tensor as a F32 StoredTensor.
/// @param t the tensor
/// @param shape the shape to store (e.g. {K} for a bias); defaults to the 4-D shape of `t`
/// @throws Error when the product of `shape` differs from the number of elements of `t`.
StoredTensor from_tensor(const Tensor& t, std::vector<std::size_t> shape = {});

}  // namespace convbook
