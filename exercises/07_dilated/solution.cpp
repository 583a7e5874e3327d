// Chapter 07 exercises: the book's answers.
#include <set>

#include "exercise.hpp"

namespace convbook::ex07 {

std::size_t receptive_field(const std::vector<std::size_t>& kernels,
                            const std::vector<std::size_t>& strides,
                            const std::vector<std::size_t>& dilations) {
  std::size_t rf = 1, jump = 1;
  for (std::size_t l = 0; l < kernels.size(); ++l) {
    rf += (kernels[l] - 1) * dilations[l] * jump;
    jump *= strides[l];
  }
  return rf;
}

//! [solution-gridding]
std::vector<bool> reached_offsets(std::size_t kernel, const std::vector<std::size_t>& dilations) {
  // The set of sums grows layer by layer: every old offset plus every tap of the new layer.
  const long half = long(kernel - 1) / 2;
  std::set<long> sums = {0};
  long radius = 0;
  for (std::size_t d : dilations) {
    std::set<long> next;
    for (long o : sums) {
      for (long t = -half; t <= half; ++t) next.insert(o + t * long(d));
    }
    sums = std::move(next);
    radius += half * long(d);
  }
  std::vector<bool> reached(std::size_t(2 * radius + 1), false);
  for (long o : sums) reached[std::size_t(o + radius)] = true;
  return reached;
}
//! [solution-gridding]

long im2col_source(std::size_t H, std::size_t W, std::size_t /*R*/, std::size_t S,
                   std::size_t stride, std::size_t pad, std::size_t dilation, std::size_t row,
                   std::size_t col) {
  // Q, the output width, splits col into (p, q); the output height P is not needed.
  const long span = long(dilation) * (long(S) - 1) + 1;
  const long Q = (long(W) + 2 * long(pad) - span) / long(stride) + 1;
  const long r = long(row / S), s = long(row % S);
  const long p = long(col) / Q, q = long(col) % Q;
  const long h = p * long(stride) + r * long(dilation) - long(pad);
  const long w = q * long(stride) + s * long(dilation) - long(pad);
  if (h < 0 || h >= long(H) || w < 0 || w >= long(W)) return -1;
  return h * long(W) + w;
}

}  // namespace convbook::ex07
