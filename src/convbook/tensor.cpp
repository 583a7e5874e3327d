#include "convbook/tensor.hpp"

#include <limits>
#include <sstream>
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace convbook {

Tensor zeros(const Shape& shape) {
  Tensor t(shape);  // uninitialized; the first touch of its pages happens below, on all threads
  Scalar* p = t.data();
  const std::size_t n = t.size();
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
  for (std::size_t i = 0; i < n; ++i) p[i] = Scalar(0);
  return t;
}

Tensor empty(const Shape& shape) {
  return Tensor(shape);
}

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

void add_into(Tensor& a, const Tensor& b) {
  Scalar* pa = a.data();
  const Scalar* pb = b.data();
  const std::size_t n = a.size();
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
  for (std::size_t i = 0; i < n; ++i) pa[i] += pb[i];
}

void copy_into(Tensor& to, const Tensor& from) {
  if (to.shape() != from.shape()) to.resize(from.shape());
  Scalar* pt = to.data();
  const Scalar* pf = from.data();
  const std::size_t n = from.size();
#pragma omp parallel for simd schedule(static) if (n >= kParallelValues)
  for (std::size_t i = 0; i < n; ++i) pt[i] = pf[i];
}

void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

}  // namespace convbook
