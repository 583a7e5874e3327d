/// @file channel_mixing.cpp
/// @brief The 1x1 convolution as channel mixing: naive per-pixel loops and the pixel-row view.
///
/// Legend: N batch, C in-channels, K out-channels, H x W image.
#include "chapters/02_pointwise/channel_mixing.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "convbook/conv/conv2d.hpp"
#include "convbook/error.hpp"
#include "convbook/layers/sequential.hpp"

namespace convbook {

//! [conv1x1-naive]
// x: (N, C, H, W)  w: (K, C)  b: (K)  y: (N, K, H, W)
// For every pixel (n, h, w) the K outputs are the matrix w times the pixel's C-vector: the
// kernel mixes channels and never looks at a neighbour.
template <typename T>
void conv1x1_forward_naive(const T* x, const T* w, const T* b, T* y, std::size_t N, std::size_t C,
                           std::size_t H, std::size_t W, std::size_t K) {
  const std::size_t HW = H * W;
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t i = 0; i < HW; ++i) {  // one pixel
      for (std::size_t k = 0; k < K; ++k) {
        T sum = b ? b[k] : T(0);
        for (std::size_t c = 0; c < C; ++c) sum += w[k * C + c] * x[(n * C + c) * HW + i];
        y[(n * K + k) * HW + i] = sum;
      }
    }
  }
}

// The same pixel loop in reverse: each pixel's dy (a K-vector) goes back through w^T to its
// C-vector dx, and every pixel adds its outer product dy x^T to dw, as a Linear layer's batch
// rows would.
template <typename T>
void conv1x1_backward_naive(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t N,
                            std::size_t C, std::size_t H, std::size_t W, std::size_t K) {
  const std::size_t HW = H * W;
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t i = 0; i < HW; ++i) {
      for (std::size_t c = 0; c < C && dx; ++c) {  // dx = w^T dy
        T sum = 0;
        for (std::size_t k = 0; k < K; ++k) sum += w[k * C + c] * dy[(n * K + k) * HW + i];
        dx[(n * C + c) * HW + i] = sum;
      }
      for (std::size_t k = 0; k < K; ++k) {
        const T g = dy[(n * K + k) * HW + i];
        if (db) db[k] += g;  // db = sum of dy over the pixels
        for (std::size_t c = 0; c < C && dw; ++c) dw[k * C + c] += g * x[(n * C + c) * HW + i];
      }
    }
  }
}
//! [conv1x1-naive]

//! [pixel-rows]
Tensor to_pixel_rows(const Tensor& x) {
  const Shape s = shape_of(x);
  const std::size_t N = s[0], C = s[1], HW = s[2] * s[3];
  Tensor rows = zeros({N * HW, C, 1, 1});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < HW; ++i)
        rows.data()[(n * HW + i) * C + c] = x.data()[(n * C + c) * HW + i];
  return rows;
}
//! [pixel-rows]

Tensor from_pixel_rows(const Tensor& rows, const Shape& image_shape) {
  const Shape r = shape_of(rows);
  const std::size_t N = image_shape[0], HW = image_shape[2] * image_shape[3], K = r[1];
  if (r[0] != N * HW || r[2] != 1 || r[3] != 1) {
    throw Error("from_pixel_rows: rows of shape " + to_string(r) + ", expected (" +
                std::to_string(N * HW) + ", K, 1, 1) for images " + to_string(image_shape));
  }
  Tensor y = zeros({N, K, image_shape[2], image_shape[3]});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t i = 0; i < HW; ++i)
        y.data()[(n * K + k) * HW + i] = rows.data()[(n * HW + i) * K + k];
  return y;
}

ModulePtr conv3x3_stack(std::size_t channels) {
  if (channels == 0) throw Error("conv3x3_stack: channels=0, expected at least 1");
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>(Conv2dOptions(channels, channels, 3).padding(1).bias(false));
  return net;
}

//! [bottleneck]
ModulePtr bottleneck_stack(std::size_t channels, std::size_t reduced) {
  if (channels == 0 || reduced == 0) {
    throw Error("bottleneck_stack: channels=" + std::to_string(channels) +
                ", reduced=" + std::to_string(reduced) + ", expected both at least 1");
  }
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>(Conv2dOptions(channels, reduced, 1).bias(false));  // reduce: mix C -> M
  net->emplace<Conv2d>(Conv2dOptions(reduced, reduced, 3).padding(1).bias(false));  // look around
  net->emplace<Conv2d>(Conv2dOptions(reduced, channels, 1).bias(false));  // expand: mix M -> C
  return net;
}
//! [bottleneck]

template void conv1x1_forward_naive<float>(const float*, const float*, const float*, float*,
                                           std::size_t, std::size_t, std::size_t, std::size_t,
                                           std::size_t);
template void conv1x1_forward_naive<double>(const double*, const double*, const double*, double*,
                                            std::size_t, std::size_t, std::size_t, std::size_t,
                                            std::size_t);
template void conv1x1_backward_naive<float>(const float*, const float*, const float*, float*,
                                            float*, float*, std::size_t, std::size_t, std::size_t,
                                            std::size_t, std::size_t);
template void conv1x1_backward_naive<double>(const double*, const double*, const double*, double*,
                                             double*, double*, std::size_t, std::size_t,
                                             std::size_t, std::size_t, std::size_t);

}  // namespace convbook
