#include "convbook/layers/batchnorm.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "convbook/error.hpp"
#include "convbook/prefetch.hpp"
#include "convbook/profile.hpp"
#include "convbook/repr.hpp"

// Legend: N batch, C channels, H x W image; M = N H W values per channel.

namespace convbook {

//! [batchnorm-forward]
// x: (N, C, H, W)  mean, var: (C)
template <typename T>
void batchnorm2d_batch_stats(const T* x, T* mean, T* var, std::size_t N, std::size_t C,
                             std::size_t H, std::size_t W) {
  const std::size_t HW = H * W;
  const double M = double(N * HW);
  for (std::size_t c = 0; c < C; ++c) {
    double sum = 0;
    for (std::size_t n = 0; n < N; ++n) {
      const T* xp = x + (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) sum += xp[i];
    }
    const double mu = sum / M;
    double sq = 0;  // two passes: sum (x - mu)^2 does not cancel like sum x^2 - M mu^2 would
    for (std::size_t n = 0; n < N; ++n) {
      const T* xp = x + (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) sq += (xp[i] - mu) * (xp[i] - mu);
    }
    mean[c] = T(mu);
    var[c] = T(sq / M);  // biased: this is what normalizes the batch
  }
}

// x, y: (N, C, H, W)  mean, invstd, gamma, beta: (C)
template <typename T>
void batchnorm2d_forward(const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                         T* y, std::size_t N, std::size_t C, std::size_t H, std::size_t W) {
  const std::size_t HW = H * W;
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t c = 0; c < C; ++c) {
      // y = gamma * xhat + beta folded into one multiply-add: y = scale * x + shift
      const T scale = gamma[c] * invstd[c];
      const T shift = beta[c] - mean[c] * scale;
      const T* xp = x + (n * C + c) * HW;
      T* yp = y + (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) yp[i] = scale * xp[i] + shift;
    }
  }
}
//! [batchnorm-forward]

//! [batchnorm-backward]
// x, dy, dx: (N, C, H, W)  mean, invstd, gamma, dgamma, dbeta: (C)
template <typename T>
void batchnorm2d_backward(const T* x, const T* mean, const T* invstd, const T* gamma, const T* dy,
                          T* dx, T* dgamma, T* dbeta, std::size_t N, std::size_t C, std::size_t H,
                          std::size_t W, bool batch_stats) {
  const std::size_t HW = H * W;
  const double M = double(N * HW);
  for (std::size_t c = 0; c < C; ++c) {
    // the two reductions every gradient needs: sum dy and sum dy * xhat
    double sum_dy = 0, sum_dy_xhat = 0;
    for (std::size_t n = 0; n < N; ++n) {
      const T* xp = x + (n * C + c) * HW;
      const T* gp = dy + (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) {
        sum_dy += gp[i];
        sum_dy_xhat += gp[i] * (xp[i] - mean[c]) * invstd[c];
      }
    }
    dgamma[c] += T(sum_dy_xhat);  // y = gamma xhat + beta
    dbeta[c] += T(sum_dy);
    const double k = double(gamma[c]) * double(invstd[c]);
    for (std::size_t n = 0; n < N; ++n) {
      const T* xp = x + (n * C + c) * HW;
      const T* gp = dy + (n * C + c) * HW;
      T* dxp = dx + (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) {
        if (batch_stats) {
          // mean and var depend on every x: dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat))
          const double xhat = (xp[i] - mean[c]) * invstd[c];
          dxp[i] = T(k * (gp[i] - sum_dy / M - xhat * sum_dy_xhat / M));
        } else {
          dxp[i] = T(k * gp[i]);  // running statistics are constants
        }
      }
    }
  }
}
//! [batchnorm-backward]

//! [batchnorm-fast]
// The fast path: the same formulas, arranged for the machine. Channels are independent, so
// they are spread over the OpenMP threads; every inner loop runs over one contiguous H x W
// plane with `omp simd` reductions in T (at most H W / lanes values per lane: a 32 x 32 plane
// puts 64 in each float lane), and the planes' sums are added in double; backward folds xhat
// into per-channel coefficients.
//
// The statistics take one pass over x, not two: the sums of d = x - shift and of d^2, with the
// shift the channel's first value. Then mean = shift + sum d / M and var = sum d^2 / M -
// (sum d / M)^2 cancel only as much as the shift is off the mean, about one standard deviation
// (x^2 unshifted would lose every digit of the variance when |mean| is 1e4 times the spread).
template <typename T>
void batchnorm2d_batch_stats_fast(const T* x, T* mean, T* var, std::size_t N, std::size_t C,
                                  std::size_t H, std::size_t W) {
  const std::size_t HW = H * W;
  const double M = double(N * HW);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t c = 0; c < std::ptrdiff_t(C); ++c) {
    const T shift = x[std::size_t(c) * HW];
    double sum = 0, sq = 0;
    for (std::size_t n = 0; n < N; ++n) {
      const T* xp = x + (n * C + std::size_t(c)) * HW;
      if (n + 1 < N) prefetch_next(xp + C * HW, HW);  // the channel's next plane, C planes on
      T plane_sum = 0, plane_sq = 0;
#pragma omp simd reduction(+ : plane_sum, plane_sq)
      for (std::size_t i = 0; i < HW; ++i) {
        const T d = xp[i] - shift;
        plane_sum += d;
        plane_sq += d * d;
      }
      sum += double(plane_sum);
      sq += double(plane_sq);
    }
    const double mean_d = sum / M;
    mean[c] = T(double(shift) + mean_d);
    var[c] = T(std::max(0.0, sq / M - mean_d * mean_d));
  }
}

template <typename T>
void batchnorm2d_forward_fast(const T* x, const T* mean, const T* invstd, const T* gamma,
                              const T* beta, T* y, std::size_t N, std::size_t C, std::size_t H,
                              std::size_t W) {
  const std::size_t HW = H * W;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t plane = 0; plane < std::ptrdiff_t(N * C); ++plane) {
    const std::size_t c = std::size_t(plane) % C;
    // scale (x - mean) + beta, centred first: folding the mean into the shift (scale x + shift)
    // loses the low bits of y to cancellation when |mean| is large against the spread.
    const T scale = gamma[c] * invstd[c], mu = mean[c], shift = beta[c];
    const T* xp = x + std::size_t(plane) * HW;
    T* yp = y + std::size_t(plane) * HW;
#pragma omp simd
    for (std::size_t i = 0; i < HW; ++i) yp[i] = scale * (xp[i] - mu) + shift;
  }
}

template <typename T>
void batchnorm2d_backward_fast(const T* x, const T* mean, const T* invstd, const T* gamma,
                               const T* dy, T* dx, T* dgamma, T* dbeta, std::size_t N,
                               std::size_t C, std::size_t H, std::size_t W, bool batch_stats) {
  const std::size_t HW = H * W;
  const double M = double(N * HW);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t c = 0; c < std::ptrdiff_t(C); ++c) {
    const double mu = mean[c], is = invstd[c];
    double sum_dy = 0, sum_dy_xc = 0;  // sum dy and sum dy (x - mean) = sum dy xhat / invstd
    const T mu_t = T(mu);
    for (std::size_t n = 0; n < N; ++n) {
      const T* xp = x + (n * C + std::size_t(c)) * HW;
      const T* gp = dy + (n * C + std::size_t(c)) * HW;
      if (n + 1 < N) {  // the channel's next planes, C planes on
        prefetch_next(xp + C * HW, HW);
        prefetch_next(gp + C * HW, HW);
      }
      T plane_dy = 0, plane_dy_xc = 0;  // one plane in T lanes, the planes in double
#pragma omp simd reduction(+ : plane_dy, plane_dy_xc)
      for (std::size_t i = 0; i < HW; ++i) {
        plane_dy += gp[i];
        plane_dy_xc += gp[i] * (xp[i] - mu_t);
      }
      sum_dy += double(plane_dy);
      sum_dy_xc += double(plane_dy_xc);
    }
    const double sum_dy_xhat = sum_dy_xc * is;
    dgamma[c] += T(sum_dy_xhat);
    dbeta[c] += T(sum_dy);
    // k (dy - sum_dy / M - xhat sum_dy_xhat / M) with xhat = (x - mu) is, regrouped:
    // k dy + a (x - mu) + b, a = -k is sum_dy_xhat / M, b = -k sum_dy / M. x stays centred:
    // folding mu into b (k dy + a x + b') cancels catastrophically when |mu| is large against
    // the spread, and a gradient that must sum to zero (a bias before BN) came out at 1e-4.
    const double k = double(gamma[c]) * is;
    const double a = batch_stats ? -k * is * sum_dy_xhat / M : 0;
    const double b = batch_stats ? -k * sum_dy / M : 0;
    const T kt = T(k), at = T(a), bt = T(b), mut = T(mu);
    for (std::size_t n = 0; n < N; ++n) {
      const T* xp = x + (n * C + std::size_t(c)) * HW;
      const T* gp = dy + (n * C + std::size_t(c)) * HW;
      T* dxp = dx + (n * C + std::size_t(c)) * HW;
      if (n + 1 < N) {
        prefetch_next(xp + C * HW, HW);
        prefetch_next(gp + C * HW, HW);
      }
#pragma omp simd
      for (std::size_t i = 0; i < HW; ++i) dxp[i] = kt * gp[i] + at * (xp[i] - mut) + bt;
    }
  }
}
//! [batchnorm-fast]

#define CONVBOOK_INSTANTIATE(T)                                                                   \
  template void batchnorm2d_batch_stats<T>(const T*, T*, T*, std::size_t, std::size_t,            \
                                           std::size_t, std::size_t);                             \
  template void batchnorm2d_forward<T>(const T*, const T*, const T*, const T*, const T*, T*,      \
                                       std::size_t, std::size_t, std::size_t, std::size_t);       \
  template void batchnorm2d_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, \
                                        T*, std::size_t, std::size_t, std::size_t, std::size_t,   \
                                        bool);                                                    \
  template void batchnorm2d_batch_stats_fast<T>(const T*, T*, T*, std::size_t, std::size_t,       \
                                                std::size_t, std::size_t);                        \
  template void batchnorm2d_forward_fast<T>(const T*, const T*, const T*, const T*, const T*, T*, \
                                            std::size_t, std::size_t, std::size_t, std::size_t);  \
  template void batchnorm2d_backward_fast<T>(const T*, const T*, const T*, const T*, const T*,    \
                                             T*, T*, T*, std::size_t, std::size_t, std::size_t,   \
                                             std::size_t, bool);
CONVBOOK_INSTANTIATE(float)
CONVBOOK_INSTANTIATE(double)
#undef CONVBOOK_INSTANTIATE

BatchNorm2d::BatchNorm2d(std::size_t num_features, double eps, double momentum)
    : C_(num_features), eps_(eps), momentum_(momentum) {
  if (num_features == 0) throw Error("BatchNorm2d: num_features=0, expected >= 1");
  if (!(eps > 0)) throw Error("BatchNorm2d: eps=" + python_float(eps) + ", expected > 0");
  if (!(momentum >= 0 && momentum <= 1)) {
    throw Error("BatchNorm2d: momentum=" + python_float(momentum) + ", expected in [0, 1]");
  }
  weight = Parameter::make({C_});
  bias = Parameter::make({C_});
  running_mean = Parameter::make_buffer({C_});
  running_var = Parameter::make_buffer({C_});
  num_batches_tracked = Parameter::make_buffer({1});
  weight.value.fill(Scalar(1));
  running_var.value.fill(Scalar(1));
  register_parameter("weight", &weight);
  register_parameter("bias", &bias);
  register_parameter("running_mean", &running_mean);
  register_parameter("running_var", &running_var);
  register_parameter("num_batches_tracked", &num_batches_tracked);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  Tensor y = run_forward(x);
  if (grad_enabled()) {
    copy_into(x_, x);  // backward needs x
  } else {
    x_ = Tensor();
  }
  return y;
}

Tensor BatchNorm2d::forward(Tensor&& x) {
  const ProfileScope scope(this, Pass::forward);
  Tensor y = run_forward(x);
  x_ = grad_enabled() ? std::move(x) : Tensor();  // x is a temporary: keep it, not a copy
  return y;
}

Tensor BatchNorm2d::run_forward(const Tensor& x) {
  const auto [N, C, H, W] = shape_of(x);
  if (C != C_) {
    throw Error("BatchNorm2d: input shape " + to_string(shape_of(x)) + " has " + std::to_string(C) +
                " channels, expected num_features=" + std::to_string(C_));
  }
  mean_ = zeros({C_, 1, 1, 1});
  invstd_ = zeros({C_, 1, 1, 1});
  Scalar* mean = mean_.data();
  Scalar* invstd = invstd_.data();
  used_batch_stats_ = training_;
  if (training_) {
    const std::size_t M = N * H * W;
    if (M <= 1) {
      throw Error("BatchNorm2d: expected more than 1 value per channel when training, got input " +
                  to_string(shape_of(x)));
    }
    Tensor var = zeros({C_, 1, 1, 1});
    batchnorm2d_batch_stats_fast(x.data(), mean, var.data(), N, C, H, W);
    const double m = momentum_;
    for (std::size_t c = 0; c < C_; ++c) {
      invstd[c] = Scalar(1.0 / std::sqrt(double(var.data()[c]) + eps_));
      // running_var tracks the *unbiased* variance, as PyTorch does
      const double unbiased = double(var.data()[c]) * double(M) / double(M - 1);
      running_mean.value.data()[c] = Scalar((1 - m) * running_mean.value.data()[c] + m * mean[c]);
      running_var.value.data()[c] = Scalar((1 - m) * running_var.value.data()[c] + m * unbiased);
    }
    num_batches_tracked.value.data()[0] += Scalar(1);
  } else {
    for (std::size_t c = 0; c < C_; ++c) {
      mean[c] = running_mean.value.data()[c];
      invstd[c] = Scalar(1.0 / std::sqrt(double(running_var.value.data()[c]) + eps_));
    }
  }
  last_size_ = x.size();
  Tensor y(x.shape());
  batchnorm2d_forward_fast(x.data(), mean, invstd, weight.value.data(), bias.value.data(), y.data(),
                           N, C, H, W);
  return y;
}

Tensor BatchNorm2d::backward(const Tensor& dy) {
  Tensor dx(dy.shape());
  return run_backward(dy, dx);
}

Tensor BatchNorm2d::backward(Tensor&& dy) {
  return run_backward(dy, dy);  // each dx value is written after its dy value was last read
}

Tensor BatchNorm2d::run_backward(const Tensor& dy, Tensor& dx) {
  const ProfileScope scope(this, Pass::backward);
  if (x_.size() == 0) {
    throw Error("BatchNorm2d: backward called before forward (or after a forward under NoGradGuard)");
  }
  if (dy.shape() != x_.shape()) {
    throw Error("BatchNorm2d: backward got dy of shape " + to_string(shape_of(dy)) + ", expected " +
                to_string(shape_of(x_)));
  }
  const auto [N, C, H, W] = shape_of(x_);
  batchnorm2d_backward_fast(x_.data(), mean_.data(), invstd_.data(), weight.value.data(),
                            dy.data(), dx.data(), weight.grad.data(), bias.grad.data(), N, C, H, W,
                            used_batch_stats_);
  return std::move(dx);
}

std::string BatchNorm2d::repr() const {
  return "BatchNorm2d(" + std::to_string(C_) + ", eps=" + python_float(eps_) +
         ", momentum=" + python_float(momentum_) + ")";
}

double BatchNorm2d::flops() const {
  return 2.0 * double(last_size_);
}

}  // namespace convbook
