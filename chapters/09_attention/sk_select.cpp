/// @file sk_select.cpp
/// @brief Fuse and select: the shared steps of SK and split attention (the r-softmax
/// between them is in rsoftmax.cpp).
#include "chapters/09_attention/sk_select.hpp"

#include <algorithm>
#include <string>

#include "convbook/error.hpp"

namespace convbook {

namespace {

// C = channels / R, or an Error naming the caller.
std::size_t split_channels_of(const Shape& s, std::size_t R, const char* who) {
  if (R == 0 || s[1] % R != 0) {
    throw Error(std::string(who) + ": " + std::to_string(R) + " splits cannot cut " + to_string(s) +
                ", expected R >= 1 dividing its " + std::to_string(s[1]) + " channels");
  }
  return s[1] / R;
}

}  // namespace

Tensor stack_splits(const std::vector<Tensor>& splits) {
  if (splits.empty()) throw Error("stack_splits: no splits, expected at least one");
  const Shape s = shape_of(splits[0]);
  const std::size_t R = splits.size(), N = s[0], slab = s[1] * s[2] * s[3];
  Tensor u = zeros({N, R * s[1], s[2], s[3]});
  for (std::size_t r = 0; r < R; ++r) {
    if (shape_of(splits[r]) != s) {
      throw Error("stack_splits: split " + std::to_string(r) + " has shape " +
                  to_string(shape_of(splits[r])) + ", expected " + to_string(s));
    }
    // NCHW: one image of one split is a contiguous slab of C H W values.
    for (std::size_t n = 0; n < N; ++n) {
      const Scalar* src = splits[r].data() + n * slab;
      std::copy(src, src + slab, u.data() + (n * R + r) * slab);
    }
  }
  return u;
}

std::vector<Tensor> unstack_splits(const Tensor& stacked, std::size_t R) {
  const Shape s = shape_of(stacked);
  const std::size_t C = split_channels_of(s, R, "unstack_splits");
  const std::size_t N = s[0], slab = C * s[2] * s[3];
  std::vector<Tensor> splits;
  for (std::size_t r = 0; r < R; ++r) {
    Tensor t = zeros({N, C, s[2], s[3]});
    for (std::size_t n = 0; n < N; ++n) {
      const Scalar* src = stacked.data() + (n * R + r) * slab;
      std::copy(src, src + slab, t.data() + n * slab);
    }
    splits.push_back(std::move(t));
  }
  return splits;
}

//! [fuse]
Tensor sum_splits(const Tensor& u, std::size_t R) {
  const Shape s = shape_of(u);
  const std::size_t C = split_channels_of(s, R, "sum_splits");
  const std::size_t N = s[0], slab = C * s[2] * s[3];
  Tensor sum = zeros({N, C, s[2], s[3]});
  for (std::size_t n = 0; n < N; ++n) {
    Scalar* out = sum.data() + n * slab;
    for (std::size_t r = 0; r < R; ++r) {
      const Scalar* in = u.data() + (n * R + r) * slab;
      for (std::size_t i = 0; i < slab; ++i) out[i] += in[i];
    }
  }
  return sum;
}

Tensor broadcast_to_splits(const Tensor& ds, std::size_t R) {
  if (R == 0) throw Error("broadcast_to_splits: R=0, expected at least one split");
  // dS/dU_r = identity for every r: each split receives the whole gradient.
  return stack_splits(std::vector<Tensor>(R, ds));
}
//! [fuse]

//! [select]
Tensor weighted_sum_splits(const Tensor& u, const Tensor& a, std::size_t R) {
  const Shape s = shape_of(u);
  const std::size_t C = split_channels_of(s, R, "weighted_sum_splits");
  if (shape_of(a) != Shape{s[0], s[1], 1, 1}) {
    throw Error("weighted_sum_splits: attention of shape " + to_string(shape_of(a)) +
                ", expected one weight per split and channel " +
                to_string(Shape{s[0], s[1], 1, 1}));
  }
  const std::size_t N = s[0], HW = s[2] * s[3];
  Tensor v = zeros({N, C, s[2], s[3]});
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t c = 0; c < C; ++c) {
        const Scalar w = a.data()[(n * R + r) * C + c];  // one weight for the whole map
        const Scalar* in = u.data() + ((n * R + r) * C + c) * HW;
        Scalar* out = v.data() + (n * C + c) * HW;
        for (std::size_t i = 0; i < HW; ++i) out[i] += w * in[i];
      }
    }
  }
  return v;
}

void weighted_sum_splits_backward(const Tensor& u, const Tensor& a, const Tensor& dv, std::size_t R,
                                  Tensor& du, Tensor& da) {
  const Shape s = shape_of(u);
  const std::size_t C = split_channels_of(s, R, "weighted_sum_splits_backward");
  if (shape_of(dv) != Shape{s[0], C, s[2], s[3]}) {
    throw Error("weighted_sum_splits_backward: dv of shape " + to_string(shape_of(dv)) +
                ", expected " + to_string(Shape{s[0], C, s[2], s[3]}));
  }
  const std::size_t N = s[0], HW = s[2] * s[3];
  du = zeros(s);
  da = zeros({N, s[1], 1, 1});
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t c = 0; c < C; ++c) {
        const std::size_t rc = (n * R + r) * C + c;
        const Scalar w = a.data()[rc];
        const Scalar* in = u.data() + rc * HW;
        const Scalar* g = dv.data() + (n * C + c) * HW;
        Scalar* gin = du.data() + rc * HW;
        double dw = 0;  // the weight was used at every pixel: its gradient sums over them
        for (std::size_t i = 0; i < HW; ++i) {
          gin[i] = w * g[i];
          dw += double(g[i]) * double(in[i]);
        }
        da.data()[rc] = Scalar(dw);
      }
    }
  }
}
//! [select]

}  // namespace convbook
