#include "convbook/layers/loss.hpp"

#include <cmath>

#include "convbook/error.hpp"
#include "convbook/repr.hpp"

// Legend: N batch, K classes.

namespace convbook {

namespace {
void check_batch(const char* who, const Tensor& logits, const std::vector<int>& labels) {
  const Shape s = shape_of(logits);
  if (s[2] != 1 || s[3] != 1 || s[1] == 0) {
    throw Error(std::string(who) + ": logits of shape " + to_string(s) +
                ", expected (N, K, 1, 1) with K >= 1");
  }
  if (labels.size() != s[0]) {
    throw Error(std::string(who) + ": " + std::to_string(labels.size()) + " labels for " +
                std::to_string(s[0]) + " logit rows, expected as many labels as rows");
  }
  for (std::size_t n = 0; n < labels.size(); ++n) {
    if (labels[n] < 0 || std::size_t(labels[n]) >= s[1]) {
      throw Error(std::string(who) + ": label " + std::to_string(labels[n]) + " at position " +
                  std::to_string(n) + " is out of range, expected in [0, " + std::to_string(s[1]) +
                  ")");
    }
  }
}
}  // namespace

//! [cross-entropy]
// z, probs: (N, K)  labels: (N)
template <typename T>
double softmax_cross_entropy_forward(const T* z, const int* labels, T* probs, std::size_t N,
                                     std::size_t K, double label_smoothing) {
  const double off = label_smoothing / double(K);  // q_k for k != label
  const double on = 1.0 - label_smoothing + off;   // q_label
  double total = 0;
  for (std::size_t n = 0; n < N; ++n) {
    const T* zn = z + n * K;
    double zmax = zn[0];
    for (std::size_t k = 1; k < K; ++k) zmax = std::max(zmax, double(zn[k]));
    double sum = 0;
    for (std::size_t k = 0; k < K; ++k) sum += std::exp(double(zn[k]) - zmax);
    const double lse = zmax + std::log(sum);  // log sum_k exp z_k, without overflow
    // -sum_k q_k log p_k = -sum_k q_k (z_k - lse) = lse - sum_k q_k z_k, since sum_k q_k = 1
    double qz = 0;
    for (std::size_t k = 0; k < K; ++k) {
      qz += (int(k) == labels[n] ? on : off) * double(zn[k]);
      probs[n * K + k] = T(std::exp(double(zn[k]) - lse));
    }
    total += lse - qz;
  }
  return total / double(N);
}

// probs, dz: (N, K)  labels: (N)
template <typename T>
void softmax_cross_entropy_backward(const T* probs, const int* labels, T* dz, std::size_t N,
                                    std::size_t K, double label_smoothing) {
  const double off = label_smoothing / double(K);
  const double on = 1.0 - label_smoothing + off;
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t k = 0; k < K; ++k) {
      const double q = int(k) == labels[n] ? on : off;
      dz[n * K + k] = T((double(probs[n * K + k]) - q) / double(N));  // softmax - target
    }
  }
}
//! [cross-entropy]

template double softmax_cross_entropy_forward<float>(const float*, const int*, float*, std::size_t,
                                                     std::size_t, double);
template double softmax_cross_entropy_forward<double>(const double*, const int*, double*,
                                                      std::size_t, std::size_t, double);
template void softmax_cross_entropy_backward<float>(const float*, const int*, float*, std::size_t,
                                                    std::size_t, double);
template void softmax_cross_entropy_backward<double>(const double*, const int*, double*,
                                                     std::size_t, std::size_t, double);

CrossEntropyLoss::CrossEntropyLoss(double label_smoothing) : label_smoothing_(label_smoothing) {
  if (!(label_smoothing >= 0 && label_smoothing <= 1)) {
    throw Error("CrossEntropyLoss: label_smoothing=" + std::to_string(label_smoothing) +
                ", expected in [0, 1]");
  }
}

double CrossEntropyLoss::forward(const Tensor& logits, const std::vector<int>& labels) {
  check_batch("CrossEntropyLoss", logits, labels);
  const Shape s = shape_of(logits);
  probs_ = zeros(s);
  labels_ = labels;
  return softmax_cross_entropy_forward(logits.data(), labels.data(), probs_.data(), s[0], s[1],
                                       label_smoothing_);
}

Tensor CrossEntropyLoss::backward() const {
  if (probs_.size() == 0 || labels_.empty()) {
    throw Error("CrossEntropyLoss: backward called before forward");
  }
  const Shape s = shape_of(probs_);
  Tensor dz = zeros(s);
  softmax_cross_entropy_backward(probs_.data(), labels_.data(), dz.data(), s[0], s[1],
                                 label_smoothing_);
  return dz;
}

std::string CrossEntropyLoss::repr() const {
  if (label_smoothing_ == 0) return "CrossEntropyLoss()";
  return "CrossEntropyLoss(label_smoothing=" + python_float(label_smoothing_) + ")";
}

std::size_t count_correct(const Tensor& logits, const std::vector<int>& labels) {
  check_batch("count_correct", logits, labels);
  const std::size_t K = logits.shape()[1];
  std::size_t hits = 0;
  for (std::size_t n = 0; n < labels.size(); ++n) {
    const Scalar* zn = logits.data() + n * K;
    std::size_t best = 0;
    for (std::size_t k = 1; k < K; ++k)
      if (zn[k] > zn[best]) best = k;  // first maximum wins ties, like torch.argmax
    hits += best == std::size_t(labels[n]) ? 1 : 0;
  }
  return hits;
}

}  // namespace convbook
