#include "convbook/conv/conv_bn.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "convbook/error.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/profile.hpp"

namespace convbook {

//! [conv-bn-fold]
Tensor conv_bn_inference(const Conv2d& conv, const BatchNorm2d& bn, const Tensor& x, bool relu) {
  const ProfileScope scope(&conv, Pass::forward);  // a profile counts it as the conv's time
  const Shape out = conv.output_shape(shape_of(x));  // checks x as forward does
  const std::size_t K = out[1];
  if (bn.running_mean.value.size() != K) {
    throw Error("conv_bn_inference: BatchNorm2d over " +
                std::to_string(bn.running_mean.value.size()) + " channels after a Conv2d with " +
                std::to_string(K) + " out_channels, expected equal");
  }
  // w'_k = s_k w_k and b'_k = s_k (b_k - mean_k) + beta_k, s_k = gamma_k / sqrt(var_k + eps)
  const std::size_t per_k = conv.weight.value.size() / K;
  std::vector<Scalar> w(conv.weight.value.size()), b(K);
  for (std::size_t k = 0; k < K; ++k) {
    const double s = double(bn.weight.value.data()[k]) /
                     std::sqrt(double(bn.running_var.value.data()[k]) + bn.eps());
    const double conv_b = conv.options().bias() ? double(conv.bias.value.data()[k]) : 0.0;
    b[k] = Scalar(s * (conv_b - double(bn.running_mean.value.data()[k])) +
                  double(bn.bias.value.data()[k]));
    for (std::size_t i = 0; i < per_k; ++i) {
      w[k * per_k + i] = Scalar(s * double(conv.weight.value.data()[k * per_k + i]));
    }
  }
  const ConvGeometry g = conv_geometry(conv.options(), shape_of(x));
  const ConvAlgo algo = conv.algorithm() == ConvAlgo::Auto ? pick_conv_algo(g) : conv.algorithm();
  Tensor y = zeros(out);
  conv2d_forward(algo, g, x.data(), w.data(), b.data(), y.data(), conv_workspace_arena());
  if (relu) relu_forward(y.data(), y.data(), y.size());  // in place: y is ours
  return y;
}
//! [conv-bn-fold]

}  // namespace convbook
