#include "chapters/05_shuffle/channel_shuffle.hpp"

#include <algorithm>

#include "convbook/error.hpp"
#include "convbook/profile.hpp"

namespace convbook {

//! [shuffle-naive]
// x, y, dy, dx: (N, C, H, W); output channel c = k G + gi reads input channel gi (C/G) + k
template <typename T>
void channel_shuffle_forward_naive(const T* x, T* y, std::size_t N, std::size_t C, std::size_t H,
                                   std::size_t W, std::size_t G) {
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t src = channel_shuffle_source(c, C, G);
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t w = 0; w < W; ++w)
          y[((n * C + c) * H + h) * W + w] = x[((n * C + src) * H + h) * W + w];
    }
}

template <typename T>
void channel_shuffle_backward_naive(const T* dy, T* dx, std::size_t N, std::size_t C, std::size_t H,
                                    std::size_t W, std::size_t G) {
  // y[c] = x[src(c)] is a copy, so d y[c] / d x[src(c)] = 1 and nothing else: every gradient
  // goes back to the one channel its value came from (a scatter through the same map).
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t src = channel_shuffle_source(c, C, G);
      for (std::size_t h = 0; h < H; ++h)
        for (std::size_t w = 0; w < W; ++w)
          dx[((n * C + src) * H + h) * W + w] = dy[((n * C + c) * H + h) * W + w];
    }
}
//! [shuffle-naive]

//! [shuffle-planes]
// Same map, but an output channel is one contiguous H x W plane: copy it whole.
template <typename T>
void channel_shuffle_forward(const T* x, T* y, std::size_t N, std::size_t C, std::size_t H,
                             std::size_t W, std::size_t G) {
  const std::size_t plane = H * W;
  for (std::size_t n = 0; n < N; ++n) {
    const T* xn = x + n * C * plane;
    T* yn = y + n * C * plane;
    for (std::size_t c = 0; c < C; ++c) {
      const T* from = xn + channel_shuffle_source(c, C, G) * plane;
      std::copy(from, from + plane, yn + c * plane);
    }
  }
}

template <typename T>
void channel_shuffle_backward(const T* dy, T* dx, std::size_t N, std::size_t C, std::size_t H,
                              std::size_t W, std::size_t G) {
  // The inverse of the transpose (G, C/G) -> (C/G, G) is the transpose back, (C/G, G) -> (G, C/G):
  // the shuffle with C/G groups.
  channel_shuffle_forward(dy, dx, N, C, H, W, C / G);
}
//! [shuffle-planes]

template void channel_shuffle_forward_naive<float>(const float*, float*, std::size_t, std::size_t,
                                                   std::size_t, std::size_t, std::size_t);
template void channel_shuffle_forward_naive<double>(const double*, double*, std::size_t,
                                                    std::size_t, std::size_t, std::size_t,
                                                    std::size_t);
template void channel_shuffle_backward_naive<float>(const float*, float*, std::size_t, std::size_t,
                                                    std::size_t, std::size_t, std::size_t);
template void channel_shuffle_backward_naive<double>(const double*, double*, std::size_t,
                                                     std::size_t, std::size_t, std::size_t,
                                                     std::size_t);
template void channel_shuffle_forward<float>(const float*, float*, std::size_t, std::size_t,
                                             std::size_t, std::size_t, std::size_t);
template void channel_shuffle_forward<double>(const double*, double*, std::size_t, std::size_t,
                                              std::size_t, std::size_t, std::size_t);
template void channel_shuffle_backward<float>(const float*, float*, std::size_t, std::size_t,
                                              std::size_t, std::size_t, std::size_t);
template void channel_shuffle_backward<double>(const double*, double*, std::size_t, std::size_t,
                                               std::size_t, std::size_t, std::size_t);

ChannelShuffle::ChannelShuffle(std::size_t groups) : G_(groups) {
  if (groups == 0) throw Error("ChannelShuffle: groups=0, expected at least 1");
}

Tensor ChannelShuffle::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  const Shape s = shape_of(x);
  if (s[1] % G_ != 0) {
    throw Error("ChannelShuffle: groups=" + std::to_string(G_) + " must divide the " +
                std::to_string(s[1]) + " channels of the input " + to_string(s));
  }
  shape_ = s;
  Tensor y = zeros(s);
  if (naive_) {
    channel_shuffle_forward_naive(x.data(), y.data(), s[0], s[1], s[2], s[3], G_);
  } else {
    channel_shuffle_forward(x.data(), y.data(), s[0], s[1], s[2], s[3], G_);
  }
  return y;
}

Tensor ChannelShuffle::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  if (shape_of(dy) != shape_ || numel(shape_) == 0) {
    throw Error("ChannelShuffle: backward got dy of shape " + to_string(shape_of(dy)) +
                ", expected the last forward input's shape " + to_string(shape_));
  }
  const Shape s = shape_;
  Tensor dx = zeros(s);
  if (naive_) {
    channel_shuffle_backward_naive(dy.data(), dx.data(), s[0], s[1], s[2], s[3], G_);
  } else {
    channel_shuffle_backward(dy.data(), dx.data(), s[0], s[1], s[2], s[3], G_);
  }
  return dx;
}

std::string ChannelShuffle::repr() const {
  return "ChannelShuffle(groups=" + std::to_string(G_) + ")";
}

}  // namespace convbook
