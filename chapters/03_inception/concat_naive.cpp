#include "chapters/03_inception/concat_naive.hpp"

#include "convbook/layers/concat.hpp"

namespace convbook {

//! [concat-naive]
Tensor concat_channels_naive(const std::vector<const Tensor*>& parts) {
  const Shape s = concat_channels_shape(parts);
  Tensor y = zeros(s);
  std::size_t offset = 0;  // off_i: where part i starts among y's channels
  for (const Tensor* part : parts) {
    const std::size_t Ci = part->shape()[1];
    for (std::size_t n = 0; n < s[0]; ++n)
      for (std::size_t c = 0; c < Ci; ++c)
        for (std::size_t h = 0; h < s[2]; ++h)
          for (std::size_t w = 0; w < s[3]; ++w) y(n, offset + c, h, w) = (*part)(n, c, h, w);
    offset += Ci;
  }
  return y;
}

std::vector<Tensor> split_channels_naive(const Tensor& dy,
                                         const std::vector<std::size_t>& channels) {
  const Shape s = shape_of(dy);
  check_split_channels(s, channels);
  std::vector<Tensor> parts;
  std::size_t offset = 0;
  for (std::size_t Ci : channels) {
    Tensor d = zeros({s[0], Ci, s[2], s[3]});
    for (std::size_t n = 0; n < s[0]; ++n)
      for (std::size_t c = 0; c < Ci; ++c)
        for (std::size_t h = 0; h < s[2]; ++h)
          for (std::size_t w = 0; w < s[3]; ++w) d(n, c, h, w) = dy(n, offset + c, h, w);
    parts.push_back(d);
    offset += Ci;
  }
  return parts;
}
//! [concat-naive]

}  // namespace convbook
