#include "convbook/tensor.hpp"

#include <sstream>

namespace convbook {

Tensor zeros(const Shape& shape) { return Tensor(shape, Scalar(0)); }

Shape shape_of(const Tensor& t) {
  return {t.shape()[0], t.shape()[1], t.shape()[2], t.shape()[3]};
}

std::size_t numel(const Shape& shape) { return shape[0] * shape[1] * shape[2] * shape[3]; }

std::string to_string(const Shape& shape) {
  std::ostringstream out;
  out << '(' << shape[0] << ", " << shape[1] << ", " << shape[2] << ", " << shape[3] << ')';
  return out.str();
}

std::string to_string(const std::vector<std::size_t>& shape) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

}  // namespace convbook
