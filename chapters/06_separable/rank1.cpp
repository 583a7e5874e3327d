#include "chapters/06_separable/rank1.hpp"

#include <algorithm>
#include <cmath>

#include "chapters/06_separable/svd.hpp"
#include "convbook/error.hpp"

namespace convbook {

namespace {

// Calls f(svd, slice_offset) for every R x S slice w[k, c] of the layer's weight.
template <typename F>
void for_each_slice(const Conv2d& conv, F f) {
  const Shape s = shape_of(conv.weight.value);
  const std::size_t R = s[2], S = s[3], slices = s[0] * s[1];
  const Scalar* w = conv.weight.value.data();
  for (std::size_t i = 0; i < slices; ++i) {
    const std::vector<double> slice(w + i * R * S, w + (i + 1) * R * S);
    f(svd_jacobi(slice, R, S), i * R * S);
  }
}

}  // namespace

std::vector<double> kernel_rank1_energies(const Conv2d& conv) {
  std::vector<double> energies;
  for_each_slice(conv,
                 [&](const Svd& svd, std::size_t) { energies.push_back(rank1_energy(svd.S)); });
  return energies;
}

//! [replace-rank1]
double replace_kernels_by_rank1(Conv2d& conv) {
  double removed = 0, total = 0;
  Scalar* w = conv.weight.value.data();
  for_each_slice(conv, [&](const Svd& svd, std::size_t offset) {
    for (std::size_t i = 0; i < svd.k; ++i) {
      total += svd.S[i] * svd.S[i];
      if (i > 0) removed += svd.S[i] * svd.S[i];
    }
    const std::vector<double> approx = rank1_approximation(svd);  // sigma_1 u_1 v_1^T
    std::copy(approx.begin(), approx.end(), w + offset);
  });
  return total == 0 ? 0.0 : removed / total;
}
//! [replace-rank1]

std::vector<std::pair<std::string, Conv2d*>> find_convolutions(Module& model, std::size_t R,
                                                               std::size_t S) {
  std::vector<std::pair<std::string, Conv2d*>> found;
  auto visit = [&](auto&& self, Module& m, const std::string& prefix) -> void {
    if (auto* conv = dynamic_cast<Conv2d*>(&m)) {
      const Pair k = conv->options().kernel_size();
      if (k.h == R && k.w == S) found.emplace_back(prefix, conv);
    }
    for (const auto& [name, child] : m.children()) {
      self(self, *child, prefix.empty() ? name : prefix + "." + name);
    }
  };
  visit(visit, model, "");
  return found;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty() || !(q >= 0 && q <= 1)) {
    throw Error("quantile: " + std::to_string(values.size()) + " values, q=" + std::to_string(q) +
                "; expected at least one value and 0 <= q <= 1");
  }
  std::sort(values.begin(), values.end());
  const double pos = q * double(values.size() - 1);
  const std::size_t lo = std::size_t(std::floor(pos)), hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - double(lo)) * (values[hi] - values[lo]);
}

}  // namespace convbook
