#include "convbook/layers/pooling.hpp"

#include <algorithm>
#include <limits>

#include "convbook/error.hpp"
#include "convbook/profile.hpp"

// Legend: N batch, C channels, H x W input, P x Q output, R x S window (R = S = kernel).

namespace convbook {

namespace {
//! [pool-window]
// The window of output p along one side, clipped to the image: [begin, end). `full` is its
// size counting padding but not beyond it, which is PyTorch's count_include_pad divisor.
struct Span {
  std::ptrdiff_t begin, end, full;
};
Span window(std::size_t p, std::size_t size, const Pool2dGeometry& g) {
  const std::ptrdiff_t start = std::ptrdiff_t(p * g.stride) - std::ptrdiff_t(g.padding);
  const std::ptrdiff_t stop =
      std::min(start + std::ptrdiff_t(g.kernel), std::ptrdiff_t(size + g.padding));
  return {std::max<std::ptrdiff_t>(start, 0), std::min(stop, std::ptrdiff_t(size)), stop - start};
}
//! [pool-window]

Pool2dGeometry make_geometry(const char* who, std::size_t kernel, std::size_t stride,
                             std::size_t padding) {
  if (kernel == 0) throw Error(std::string(who) + ": kernel_size=0, expected >= 1");
  Pool2dGeometry g{kernel, stride == 0 ? kernel : stride, padding};
  if (2 * padding > kernel) {
    throw Error(std::string(who) + ": padding=" + std::to_string(padding) +
                " should be at most half of kernel_size=" + std::to_string(kernel) +
                " (expected padding <= " + std::to_string(kernel / 2) + ")");
  }
  return g;
}

Shape pooled_shape(const char* who, const Shape& s, const Pool2dGeometry& g) {
  if (s[2] + 2 * g.padding < g.kernel || s[3] + 2 * g.padding < g.kernel) {
    throw Error(std::string(who) + ": input " + to_string(s) + " padded by " +
                std::to_string(g.padding) +
                " is smaller than kernel_size=" + std::to_string(g.kernel));
  }
  return {s[0], s[1], g.output_size(s[2]), g.output_size(s[3])};
}

void check_dy(const char* who, const Tensor& dy, const Shape& expected) {
  if (shape_of(dy) != expected) {
    throw Error(std::string(who) + ": backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected " + to_string(expected));
  }
}
}  // namespace

//! [maxpool-kernels]
// x: (N, C, H, W)  y, argmax: (N, C, P, Q)
template <typename T>
void maxpool2d_forward(const T* x, T* y, std::int64_t* argmax, std::size_t N, std::size_t C,
                       std::size_t H, std::size_t W, const Pool2dGeometry& g) {
  const std::size_t P = g.output_size(H), Q = g.output_size(W);
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    const T* xp = x + nc * H * W;
    for (std::size_t p = 0; p < P; ++p) {
      const Span rows = window(p, H, g);
      for (std::size_t q = 0; q < Q; ++q) {
        const Span cols = window(q, W, g);
        T best = -std::numeric_limits<T>::infinity();
        std::int64_t where = rows.begin * std::ptrdiff_t(W) + cols.begin;
        for (std::ptrdiff_t h = rows.begin; h < rows.end; ++h) {
          for (std::ptrdiff_t w = cols.begin; w < cols.end; ++w) {
            const T v = xp[h * std::ptrdiff_t(W) + w];
            if (v > best) {  // strict: the first maximum wins ties
              best = v;
              where = h * std::ptrdiff_t(W) + w;
            }
          }
        }
        y[(nc * P + p) * Q + q] = best;
        argmax[(nc * P + p) * Q + q] = where;
      }
    }
  }
}

// dy, argmax: (N, C, P, Q)  dx: (N, C, H, W)
template <typename T>
void maxpool2d_backward(const T* dy, const std::int64_t* argmax, T* dx, std::size_t N,
                        std::size_t C, std::size_t H, std::size_t W, std::size_t P, std::size_t Q) {
  std::fill(dx, dx + N * C * H * W, T(0));
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    // max is a switch: only the winner influenced y, so only it receives dy. Windows overlap
    // when stride < kernel, hence +=.
    for (std::size_t i = 0; i < P * Q; ++i)
      dx[nc * H * W + argmax[nc * P * Q + i]] += dy[nc * P * Q + i];
  }
}
//! [maxpool-kernels]

//! [avgpool-kernels]
// x: (N, C, H, W)  y: (N, C, P, Q)
template <typename T>
void avgpool2d_forward(const T* x, T* y, std::size_t N, std::size_t C, std::size_t H, std::size_t W,
                       const Pool2dGeometry& g, bool count_include_pad) {
  const std::size_t P = g.output_size(H), Q = g.output_size(W);
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    const T* xp = x + nc * H * W;
    for (std::size_t p = 0; p < P; ++p) {
      const Span rows = window(p, H, g);
      for (std::size_t q = 0; q < Q; ++q) {
        const Span cols = window(q, W, g);
        T sum = 0;
        for (std::ptrdiff_t h = rows.begin; h < rows.end; ++h)
          for (std::ptrdiff_t w = cols.begin; w < cols.end; ++w)
            sum += xp[h * std::ptrdiff_t(W) + w];
        const std::ptrdiff_t divisor = count_include_pad
                                           ? rows.full * cols.full
                                           : (rows.end - rows.begin) * (cols.end - cols.begin);
        y[(nc * P + p) * Q + q] = sum / T(divisor);
      }
    }
  }
}

// dy: (N, C, P, Q)  dx: (N, C, H, W)
template <typename T>
void avgpool2d_backward(const T* dy, T* dx, std::size_t N, std::size_t C, std::size_t H,
                        std::size_t W, const Pool2dGeometry& g, bool count_include_pad) {
  const std::size_t P = g.output_size(H), Q = g.output_size(W);
  std::fill(dx, dx + N * C * H * W, T(0));
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    T* dxp = dx + nc * H * W;
    for (std::size_t p = 0; p < P; ++p) {
      const Span rows = window(p, H, g);
      for (std::size_t q = 0; q < Q; ++q) {
        const Span cols = window(q, W, g);
        const std::ptrdiff_t divisor = count_include_pad
                                           ? rows.full * cols.full
                                           : (rows.end - rows.begin) * (cols.end - cols.begin);
        // y is a sum scaled by 1/divisor: every input of the window gets dy / divisor
        const T share = dy[(nc * P + p) * Q + q] / T(divisor);
        for (std::ptrdiff_t h = rows.begin; h < rows.end; ++h)
          for (std::ptrdiff_t w = cols.begin; w < cols.end; ++w)
            dxp[h * std::ptrdiff_t(W) + w] += share;
      }
    }
  }
}
//! [avgpool-kernels]

#define CONVBOOK_INSTANTIATE(T)                                                                    \
  template void maxpool2d_forward<T>(const T*, T*, std::int64_t*, std::size_t, std::size_t,        \
                                     std::size_t, std::size_t, const Pool2dGeometry&);             \
  template void maxpool2d_backward<T>(const T*, const std::int64_t*, T*, std::size_t, std::size_t, \
                                      std::size_t, std::size_t, std::size_t, std::size_t);         \
  template void avgpool2d_forward<T>(const T*, T*, std::size_t, std::size_t, std::size_t,          \
                                     std::size_t, const Pool2dGeometry&, bool);                    \
  template void avgpool2d_backward<T>(const T*, T*, std::size_t, std::size_t, std::size_t,         \
                                      std::size_t, const Pool2dGeometry&, bool);
CONVBOOK_INSTANTIATE(float)
CONVBOOK_INSTANTIATE(double)
#undef CONVBOOK_INSTANTIATE

// ---- MaxPool2d ----

MaxPool2d::MaxPool2d(std::size_t kernel, std::size_t stride, std::size_t padding)
    : g_(make_geometry("MaxPool2d", kernel, stride, padding)) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  in_shape_ = shape_of(x);
  out_shape_ = pooled_shape("MaxPool2d", in_shape_, g_);
  Tensor y = zeros(out_shape_);
  argmax_.assign(numel(out_shape_), 0);
  maxpool2d_forward(x.data(), y.data(), argmax_.data(), in_shape_[0], in_shape_[1], in_shape_[2],
                    in_shape_[3], g_);
  return y;
}

Tensor MaxPool2d::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  check_dy("MaxPool2d", dy, out_shape_);
  Tensor dx = zeros(in_shape_);
  maxpool2d_backward(dy.data(), argmax_.data(), dx.data(), in_shape_[0], in_shape_[1], in_shape_[2],
                     in_shape_[3], out_shape_[2], out_shape_[3]);
  return dx;
}

std::string MaxPool2d::repr() const {
  return "MaxPool2d(kernel_size=" + std::to_string(g_.kernel) +
         ", stride=" + std::to_string(g_.stride) + ", padding=" + std::to_string(g_.padding) +
         ", dilation=1, ceil_mode=False)";
}

// ---- AvgPool2d ----

AvgPool2d::AvgPool2d(std::size_t kernel, std::size_t stride, std::size_t padding,
                     bool count_include_pad)
    : g_(make_geometry("AvgPool2d", kernel, stride, padding)),
      count_include_pad_(count_include_pad) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  in_shape_ = shape_of(x);
  out_shape_ = pooled_shape("AvgPool2d", in_shape_, g_);
  Tensor y = zeros(out_shape_);
  avgpool2d_forward(x.data(), y.data(), in_shape_[0], in_shape_[1], in_shape_[2], in_shape_[3], g_,
                    count_include_pad_);
  return y;
}

Tensor AvgPool2d::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  check_dy("AvgPool2d", dy, out_shape_);
  Tensor dx = zeros(in_shape_);
  avgpool2d_backward(dy.data(), dx.data(), in_shape_[0], in_shape_[1], in_shape_[2], in_shape_[3],
                     g_, count_include_pad_);
  return dx;
}

std::string AvgPool2d::repr() const {
  std::string s = "AvgPool2d(kernel_size=" + std::to_string(g_.kernel) +
                  ", stride=" + std::to_string(g_.stride) +
                  ", padding=" + std::to_string(g_.padding);
  if (!count_include_pad_) s += ", count_include_pad=False";
  return s + ")";
}

double AvgPool2d::flops() const {
  return double(numel(out_shape_)) * double(g_.kernel) * double(g_.kernel);
}

// ---- AdaptiveAvgPool2d ----

AdaptiveAvgPool2d::AdaptiveAvgPool2d(std::size_t output_size) {
  if (output_size != 1) {
    throw Error("AdaptiveAvgPool2d: output_size=" + std::to_string(output_size) +
                " is not supported, expected 1 (global average pooling)");
  }
}

//! [global-avgpool]
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  in_shape_ = shape_of(x);
  const auto [N, C, H, W] = in_shape_;
  if (H * W == 0) throw Error("AdaptiveAvgPool2d: input " + to_string(in_shape_) + " is empty");
  Tensor y = zeros({N, C, 1, 1});
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    double sum = 0;
    for (std::size_t i = 0; i < H * W; ++i) sum += x.data()[nc * H * W + i];
    y.data()[nc] = Scalar(sum / double(H * W));
  }
  return y;
}

Tensor AdaptiveAvgPool2d::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  const auto [N, C, H, W] = in_shape_;
  check_dy("AdaptiveAvgPool2d", dy, {N, C, 1, 1});
  Tensor dx = zeros(in_shape_);
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    const Scalar share = dy.data()[nc] / Scalar(H * W);  // every pixel weighs 1 / (H W)
    for (std::size_t i = 0; i < H * W; ++i) dx.data()[nc * H * W + i] = share;
  }
  return dx;
}
//! [global-avgpool]

}  // namespace convbook
