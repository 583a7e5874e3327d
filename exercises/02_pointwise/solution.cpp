// Chapter 02 exercises: the book's answers. Try exercise.cpp first.
#include "exercise.hpp"

namespace convbook::ex02 {

//! [ex-conv1x1-matmul]
std::vector<float> conv1x1_as_matmul(const std::vector<float>& x, const std::vector<float>& w,
                                     const std::vector<float>& b, std::size_t N, std::size_t C,
                                     std::size_t H, std::size_t W, std::size_t K) {
  const std::size_t HW = H * W;
  std::vector<float> y(N * K * HW);
  for (std::size_t n = 0; n < N; ++n) {
    const float* X = x.data() + n * C * HW;  // image n: a C x HW matrix, no copy
    float* Y = y.data() + n * K * HW;        // its output: a K x HW matrix
    for (std::size_t k = 0; k < K; ++k) {
      for (std::size_t j = 0; j < HW; ++j) Y[k * HW + j] = b[k];
      for (std::size_t c = 0; c < C; ++c) {  // i-k-j order: rows of X streamed contiguously
        const float wkc = w[k * C + c];
        for (std::size_t j = 0; j < HW; ++j) Y[k * HW + j] += wkc * X[c * HW + j];
      }
    }
  }
  return y;
}
//! [ex-conv1x1-matmul]

//! [ex-nin-cost]
Cost nin_block_cost(const NiNBlockOptions& o, std::size_t H, std::size_t W) {
  // only the spatial convolution changes the size; the 1x1s keep P x Q
  const std::size_t P = (H + 2 * o.padding().h - o.kernel_size().h) / o.stride().h + 1;
  const std::size_t Q = (W + 2 * o.padding().w - o.kernel_size().w) / o.stride().w + 1;
  const double PQ = double(P * Q);
  Cost cost;
  auto conv = [&](std::size_t C, std::size_t K, std::size_t RS, bool activation) {
    const bool bn = o.batch_norm() && activation;
    cost.params += K * C * RS + (bn ? 2 * K : K);  // BN's gamma and beta replace the bias
    cost.flops += 2.0 * K * C * RS * PQ + (bn ? 2.0 * K * PQ : 0.0);
  };
  const std::size_t M = o.mid_channels();
  conv(o.in_channels(), M, o.kernel_size().h * o.kernel_size().w, true);
  conv(M, M, 1, true);
  conv(M, o.out_channels(), 1, o.final_activation());
  return cost;
}
//! [ex-nin-cost]

//! [ex-gap-backward]
std::vector<float> global_avg_pool_backward(const std::vector<float>& dy, std::size_t N,
                                            std::size_t C, std::size_t H, std::size_t W) {
  // y = (1/HW) sum of the plane: every pixel gets the same share dy / (H W)
  const std::size_t HW = H * W;
  std::vector<float> dx(N * C * HW);
  for (std::size_t nc = 0; nc < N * C; ++nc) {
    const float share = dy[nc] / float(HW);
    for (std::size_t i = 0; i < HW; ++i) dx[nc * HW + i] = share;
  }
  return dx;
}
//! [ex-gap-backward]

}  // namespace convbook::ex02
