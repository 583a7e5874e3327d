// Chapter 08 exercises: the book's answers.
#include <cmath>
#include <utility>
#include <vector>

#include "exercise.hpp"

namespace convbook::ex08 {

namespace {

// x(i, j), zero outside the plane
float pixel(const std::vector<float>& plane, int H, int W, int i, int j) {
  return i >= 0 && i < H && j >= 0 && j < W ? plane[std::size_t(i * W + j)] : 0.0f;
}

// Where tap k of the window samples, (h, v).
std::pair<float, float> position(const Window& win, const std::vector<float>& offset, int r,
                                 int s) {
  const int k = r * win.S + s;
  return {float(win.p * win.stride - win.pad + r * win.dilation) + offset[2 * k],
          float(win.q * win.stride - win.pad + s * win.dilation) + offset[2 * k + 1]};
}

}  // namespace

//! [solution-bilinear]
float bilinear(const std::vector<float>& plane, int H, int W, float h, float v) {
  if (h <= -1 || h >= H || v <= -1 || v >= W) return 0;
  const int h0 = int(std::floor(h)), v0 = int(std::floor(v));
  const float a = h - h0, b = v - v0;
  return (1 - a) * (1 - b) * pixel(plane, H, W, h0, v0) +
         (1 - a) * b * pixel(plane, H, W, h0, v0 + 1) +
         a * (1 - b) * pixel(plane, H, W, h0 + 1, v0) + a * b * pixel(plane, H, W, h0 + 1, v0 + 1);
}

std::vector<float> bilinear_position_grad(const std::vector<float>& plane, int H, int W, float h,
                                          float v) {
  const int h0 = int(std::floor(h)), v0 = int(std::floor(v));
  const float a = h - h0, b = v - v0;
  const float x00 = pixel(plane, H, W, h0, v0), x01 = pixel(plane, H, W, h0, v0 + 1);
  const float x10 = pixel(plane, H, W, h0 + 1, v0), x11 = pixel(plane, H, W, h0 + 1, v0 + 1);
  return {(1 - b) * (x10 - x00) + b * (x11 - x01), (1 - a) * (x01 - x00) + a * (x11 - x10)};
}
//! [solution-bilinear]

std::vector<float> deformable_column(const std::vector<float>& x, int C, const Window& win,
                                     const std::vector<float>& offset,
                                     const std::vector<float>& mask) {
  std::vector<float> col(std::size_t(C * win.R * win.S));
  const std::size_t plane = std::size_t(win.H * win.W);
  for (int c = 0; c < C; ++c) {
    const std::vector<float> xc(x.begin() + c * plane, x.begin() + (c + 1) * plane);
    for (int r = 0; r < win.R; ++r) {
      for (int s = 0; s < win.S; ++s) {
        const auto [h, v] = position(win, offset, r, s);
        col[std::size_t((c * win.R + r) * win.S + s)] =
            mask[std::size_t(r * win.S + s)] * bilinear(xc, win.H, win.W, h, v);
      }
    }
  }
  return col;
}

//! [solution-offset-gradient]
std::vector<float> offset_gradient(const std::vector<float>& x, int C, const Window& win,
                                   const std::vector<float>& offset, const std::vector<float>& mask,
                                   const std::vector<float>& dcol) {
  // col[c, k] = m_k x_c(h_k, v_k): the offset of tap k moves the samples of every channel, so
  // dL/d(dy_k) = sum_c dcol[c, k] m_k dx_c/dh, and the same with v for dx_k.
  std::vector<float> grad(std::size_t(2 * win.R * win.S), 0.0f);
  const std::size_t plane = std::size_t(win.H * win.W);
  for (int c = 0; c < C; ++c) {
    const std::vector<float> xc(x.begin() + c * plane, x.begin() + (c + 1) * plane);
    for (int r = 0; r < win.R; ++r) {
      for (int s = 0; s < win.S; ++s) {
        const int k = r * win.S + s;
        const auto [h, v] = position(win, offset, r, s);
        const std::vector<float> d = bilinear_position_grad(xc, win.H, win.W, h, v);
        const float g = dcol[std::size_t(c * win.R * win.S + k)] * mask[std::size_t(k)];
        grad[std::size_t(2 * k)] += g * d[0];
        grad[std::size_t(2 * k + 1)] += g * d[1];
      }
    }
  }
  return grad;
}
//! [solution-offset-gradient]

}  // namespace convbook::ex08
