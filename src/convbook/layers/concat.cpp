#include "convbook/layers/concat.hpp"

#include <algorithm>
#include <string>

#include "convbook/error.hpp"

namespace convbook {

Shape concat_channels_shape(const std::vector<const Tensor*>& parts) {
  if (parts.empty()) throw Error("concat_channels: no tensors to join, expected at least one");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == nullptr) throw Error("concat_channels: part " + std::to_string(i) + " is null");
  }
  Shape y = shape_of(*parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const Shape si = shape_of(*parts[i]);
    if (si[0] != y[0] || si[2] != y[2] || si[3] != y[3]) {
      throw Error("concat_channels: part " + std::to_string(i) + " has shape " + to_string(si) +
                  " and part 0 has " + to_string(shape_of(*parts[0])) +
                  "; expected equal N, H and W");
    }
    y[1] += si[1];
  }
  return y;
}

void check_split_channels(const Shape& s, const std::vector<std::size_t>& channels) {
  std::size_t total = 0;
  for (std::size_t c : channels) {
    if (c == 0) throw Error("split_channels: a part of 0 channels, expected at least 1 each");
    total += c;
  }
  if (channels.empty() || total != s[1]) {
    throw Error("split_channels: parts of " + to_string(channels) + " channels add up to " +
                std::to_string(total) + ", expected dy's " + std::to_string(s[1]) +
                " channels (dy " + to_string(s) + ")");
  }
}

//! [concat-split]
Tensor concat_channels(const std::vector<const Tensor*>& parts) {
  const Shape s = concat_channels_shape(parts);
  const std::size_t N = s[0], C = s[1], plane = s[2] * s[3];
  Tensor y = zeros(s);
  // Image n of part i is one contiguous block of C_i H W values; it lands at channel off_i.
  for (std::size_t n = 0; n < N; ++n) {
    Scalar* yn = y.data() + n * C * plane;
    for (const Tensor* part : parts) {
      const std::size_t block = part->shape()[1] * plane;
      yn = std::copy(part->data() + n * block, part->data() + (n + 1) * block, yn);
    }
  }
  return y;
}

std::vector<Tensor> split_channels(const Tensor& dy, const std::vector<std::size_t>& channels) {
  const Shape s = shape_of(dy);
  check_split_channels(s, channels);
  const std::size_t N = s[0], plane = s[2] * s[3];
  std::vector<Tensor> parts;
  for (std::size_t c : channels) parts.push_back(zeros({N, c, s[2], s[3]}));
  // The forward's copies, reversed: dy is cut where the concat joined.
  for (std::size_t n = 0; n < N; ++n) {
    const Scalar* dyn = dy.data() + n * s[1] * plane;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::size_t block = channels[i] * plane;
      std::copy(dyn, dyn + block, parts[i].data() + n * block);
      dyn += block;
    }
  }
  return parts;
}
//! [concat-split]

}  // namespace convbook
