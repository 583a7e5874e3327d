#pragma once
// Helpers that make tests read like specifications (see STYLE.md):
//   rel_error(a, b)                   cs231n's max |a-b| / max(1e-8, |a|+|b|), elementwise
//   scaled_error(a, b)                max |a-b| / max |b|: error on the reference's scale
//   allclose_ratio(a, b, rtol, atol)  max |a-b| / (atol + rtol |b|): <= 1 is torch.allclose
//   random_tensor(shape, seed)        reproducible N(0, 1) inputs
//   randomize_batchnorms(m, seed)     gamma, beta != 1, 0 in every BatchNorm2d of a module
//   gradcheck(module, x)              central differences of L = sum(y * g) vs module.backward(g)
//   numeric_gradient(loss, t, eps)    central differences of any loss() with respect to t
//   same_values(a, b)                 same shape and bit-identical values
//   scaled_gradcheck(module, x, eps)  gradcheck with scaled_error per tensor
// gradcheck is meant for the *_f64.cpp test programs, where Scalar is double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "convbook/layers/batchnorm.hpp"
#include "convbook/module.hpp"
#include "convbook/random.hpp"
#include "convbook/tensor.hpp"

namespace convbook::test {

/// cs231n's relative error, the worst element: max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|).
template <typename A, typename B>
double rel_error(const A& a, const B& b) {
  double worst = 0;
  auto ia = a.begin();
  auto ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
    const double x = double(*ia), y = double(*ib);
    worst = std::max(worst, std::abs(x - y) / std::max(1e-8, std::abs(x) + std::abs(y)));
  }
  return worst;
}

/// max_i |a_i - b_i| / max_i |b_i|: the error relative to the reference b's scale. Suits
/// comparisons of a fast kernel with the naive one, where elements near zero would make
/// rel_error meaningless. Sizes must match and NaN counts as an infinite error (a shorter a or
/// an output left unwritten is a failure, not a pass).
template <typename A, typename B>
double scaled_error(const A& a, const B& b) {
  if (std::size_t(std::distance(a.begin(), a.end())) !=
      std::size_t(std::distance(b.begin(), b.end()))) {
    return std::numeric_limits<double>::infinity();
  }
  double diff = 0, scale = 0;
  auto ia = a.begin();
  for (auto ib = b.begin(); ib != b.end(); ++ia, ++ib) {
    const double d = std::abs(double(*ia) - double(*ib));
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();  // an unwritten output
    diff = std::max(diff, d);
    scale = std::max(scale, std::abs(double(*ib)));
  }
  return diff / std::max(1e-8, scale);
}

/// max_i |a_i - b_i| / (atol + rtol |b_i|): <= 1 means every element passes torch.allclose(a, b,
/// rtol, atol). Sizes must match (shapes may differ: PyTorch's (N, K) logits are our
/// (N, K, 1, 1)); NaN counts as an infinite ratio.
template <typename A, typename B>
double allclose_ratio(const A& a, const B& b, double rtol, double atol) {
  if (std::size_t(std::distance(a.begin(), a.end())) !=
      std::size_t(std::distance(b.begin(), b.end()))) {
    return std::numeric_limits<double>::infinity();
  }
  double worst = 0;
  auto ia = a.begin();
  for (auto ib = b.begin(); ib != b.end(); ++ia, ++ib) {
    const double d = std::abs(double(*ia) - double(*ib));
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, d / (atol + rtol * std::abs(double(*ib))));
  }
  return worst;
}

/// True when a and b have the same shape and bit-identical values: for operations that only
/// move values (a concat, a shuffle), where nothing may differ at all.
inline bool same_values(const Tensor& a, const Tensor& b) {
  return shape_of(a) == shape_of(b) && std::equal(a.begin(), a.end(), b.begin());
}

/// gamma ~ U(0.5, 1.5) and beta ~ N(0, 0.5^2) in every BatchNorm2d of m (found by type, at any
/// depth; one generator walks them in module order), so that no affine term of a block's
/// BatchNorms can hide a wrongly routed gradient (PyTorch starts them at 1 and 0).
inline void randomize_batchnorms(Module& m, std::uint64_t seed) {
  Rng rng(seed);
  const std::function<void(Module&)> visit = [&](Module& module) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(&module)) {
      for (auto& v : bn->weight.value) v = Scalar(rng.uniform(0.5, 1.5));
      for (auto& v : bn->bias.value) v = Scalar(0.5 * rng.normal());
    }
    for (const auto& [name, child] : module.children()) visit(*child);
  };
  visit(m);
}

/// A tensor of N(0, 1) values from its own seeded generator.
inline Tensor random_tensor(const Shape& shape, std::uint64_t seed) {
  Rng rng(seed);
  Tensor t = zeros(shape);
  for (auto& v : t) v = Scalar(rng.normal());
  return t;
}

/// L = sum(y * g) for y = m.forward(x), summed in double: the scalar whose gradient with respect
/// to y is g, so that m.backward(g) must be its gradient with respect to x and the parameters.
inline double weighted_output(Module& m, const Tensor& x, const Tensor& g) {
  const Tensor y = m.forward(x);
  double l = 0;
  for (std::size_t i = 0; i < y.size(); ++i) l += double(y.data()[i]) * double(g.data()[i]);
  return l;
}

/// Central differences of loss() with respect to every entry of t, which loss() must read; each
/// entry is moved by +-eps and put back.
template <typename Loss>
std::vector<double> numeric_gradient(Loss loss, Tensor& t, double eps) {
  std::vector<double> d(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    const Scalar saved = t.data()[i];
    t.data()[i] = saved + Scalar(eps);
    const double plus = loss();
    t.data()[i] = saved - Scalar(eps);
    const double minus = loss();
    t.data()[i] = saved;
    d[i] = (plus - minus) / (2 * eps);
  }
  return d;
}

/// The worst relative errors found by gradcheck, for the input and for each parameter.
struct GradCheckResult {
  double input = 0;             ///< rel_error (scaled_gradcheck: scaled_error) of dx
  double parameters = 0;        ///< the worst of the same over all trainable parameters
  std::string worst_parameter;  ///< name of the parameter with the worst error
  double worst() const { return std::max(input, parameters); }
};

/// Checks module.backward against central differences of L = sum(y * g) for a fixed random g,
/// each gradient compared with `measure(analytic, numeric)` (rel_error or scaled_error).
/// `reseed` is called before every forward so layers with randomness (dropout) repeat their draw.
template <typename Reseed, typename Measure>
GradCheckResult gradcheck_with(Module& m, Tensor x, Reseed reseed, double eps, Measure measure) {
  reseed();
  Tensor y = m.forward(x);
  const Tensor g = random_tensor(shape_of(y), 12345);
  m.zero_grad();
  const Tensor dx = m.backward(g);

  auto loss = [&] {
    reseed();
    return weighted_output(m, x, g);
  };

  GradCheckResult result;
  result.input = measure(dx, numeric_gradient(loss, x, eps));

  m.visit_parameters([&](const std::string& name, Parameter& p) {
    if (p.is_buffer) return;
    const double err = measure(p.grad, numeric_gradient(loss, p.value, eps));
    if (err >= result.parameters) {
      result.parameters = err;
      result.worst_parameter = name;
    }
  });
  return result;
}

/// gradcheck_with the element-wise rel_error.
template <typename Reseed>
GradCheckResult gradcheck(Module& m, Tensor x, Reseed reseed, double eps = 1e-6) {
  return gradcheck_with(
      m, std::move(x), reseed, eps,
      [](const Tensor& a, const std::vector<double>& b) { return rel_error(a, b); });
}

/// gradcheck with each gradient tensor measured at its own scale (scaled_error: max |analytic -
/// numeric| / max |numeric|) instead of element by element: for blocks whose true gradients
/// include values near zero (after BatchNorm, in depthwise layers), where the element-wise
/// relative error of those is finite-difference noise. `reseed` as in gradcheck_with.
inline GradCheckResult scaled_gradcheck(Module& m, Tensor x, double eps,
                                        const std::function<void()>& reseed = [] {}) {
  return gradcheck_with(
      m, std::move(x), reseed, eps,
      [](const Tensor& a, const std::vector<double>& b) { return scaled_error(a, b); });
}

/// gradcheck for deterministic modules.
inline GradCheckResult gradcheck(Module& m, const Tensor& x, double eps = 1e-6) {
  return gradcheck(m, x, [] {}, eps);
}

}  // namespace convbook::test
