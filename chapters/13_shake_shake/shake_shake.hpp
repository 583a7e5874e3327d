#pragma once
/// @file shake_shake.hpp
/// @brief Shake-Shake regularization (Gastaldi 2017): a residual block with two branches mixed
/// by a random alpha in the forward pass and by an independent random beta in the backward
/// pass, and the paper's downsampling shortcut. Hand-written backward passes.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, M = K P Q values
/// of one image. The block computes
///   y = shortcut(x) + alpha_n b1(x) + (1 - alpha_n) b2(x)     (alpha_n per image n)
/// and its backward sends beta_n dy to b1 and (1 - beta_n) dy to b2.
#include <cstddef>
#include <string>
#include <vector>

#include "convbook/conv/conv2d.hpp"
#include "convbook/layers/activation.hpp"
#include "convbook/layers/batchnorm.hpp"
#include "convbook/layers/sequential.hpp"
#include "convbook/module.hpp"

namespace convbook {

/// @brief The forward coefficient: the paper's "Even" (alpha = 0.5) or "Shake" (alpha ~ U(0, 1)).
enum class ShakeForward { Even, Shake };
/// @brief The backward coefficient: "Even" (beta = 0.5), "Shake" (beta ~ U(0, 1), independent of
/// alpha) or "Keep" (beta = alpha: the true gradient of the forward mix).
enum class ShakeBackward { Even, Shake, Keep };
/// @brief One coefficient for the whole mini-batch ("Batch") or one per image ("Image").
enum class ShakeLevel { Batch, Image };

/// @brief Which Shake-Shake variant a block trains with; the default is the paper's best on
/// CIFAR-10, "Shake-Shake-Image". Evaluation always uses alpha = 0.5.
struct ShakeOptions {
  ShakeForward forward = ShakeForward::Shake;     ///< how alpha is chosen in training
  ShakeBackward backward = ShakeBackward::Shake;  ///< how beta is chosen in training
  ShakeLevel level = ShakeLevel::Image;           ///< per image or per mini-batch
  /// @brief The paper's name of the variant, e.g. "Shake-Shake-Image", "Shake-Keep-Batch".
  std::string name() const;
};

/// @brief y[n][i] = alpha[n] b1[n][i] + (1 - alpha[n]) b2[n][i], for N images of M values.
template <typename T>
void shake_mix_forward(const T* b1, const T* b2, const T* alpha, T* y, std::size_t N,
                       std::size_t M);
/// @brief db1[n][i] = beta[n] dy[n][i], db2[n][i] = (1 - beta[n]) dy[n][i]. With beta = alpha
/// this is the chain rule of shake_mix_forward; with any other beta it is Shake-Shake's
/// deliberately different backward (see the chapter: it is no function's gradient).
template <typename T>
void shake_mix_backward(const T* dy, const T* beta, T* db1, T* db2, std::size_t N,
                        std::size_t M);

/// @brief y[n][c][p][q] = x[n][c][p stride + offset][q stride + offset], 0 past the border:
/// PyTorch's avg_pool2d(pad(x[:, :, offset:, offset:], (0, offset, 0, offset)), 1, stride),
/// the two paths of the paper's shortcut (offset 0, and 1: shifted by one pixel). P = ceil(H /
/// stride).
Tensor shifted_subsample(const Tensor& x, std::size_t stride, std::size_t offset);
/// @brief The transpose of shifted_subsample: each dy goes back to the pixel it was copied
/// from; pixels never copied (and the zeros past the border) get nothing.
/// @param dy       dL/dy, (N, C, P, Q)
/// @param in_shape the shape of the forward's x, (N, C, H, W)
/// @param stride   the forward's stride
/// @param offset   the forward's offset
/// @return dL/dx
Tensor shifted_subsample_backward(const Tensor& dy, const Shape& in_shape, std::size_t stride,
                                  std::size_t offset);

/// @brief The shortcut of Shake-Shake's blocks that change the width (Gastaldi 2017, sec. 2.2
/// and the official code): ReLU, then two paths, each a 1x1 average pool of stride s (a
/// subsample) and a conv1x1 C -> K/2, the second path on the image shifted by one pixel; the
/// two halves are concatenated and batch-normalized.
///
/// state_dict: conv1.weight (K/2, C, 1, 1), conv2.weight (K/2, C, 1, 1), bn.* (K).
class ShakeShortcut : public Module {
 public:
  /// @throws Error when a size is 0 or K is odd (each path gives half the channels).
  ShakeShortcut(std::size_t in_channels, std::size_t out_channels, std::size_t stride);
  /// @brief (N, C, H, W) -> (N, K, ceil(H / s), ceil(W / s)).
  Tensor forward(const Tensor& x) override;
  /// @brief The same steps in reverse; the two paths' gradients add up at the ReLU.
  Tensor backward(const Tensor& dy) override;
  /// @brief "ShakeShortcut(16, 32, stride=2)".
  std::string repr() const override;

  ReLU relu;        ///< before both paths
  Conv2d conv1;     ///< 1x1, C -> K/2, on the pixels (s p, s q)
  Conv2d conv2;     ///< 1x1, C -> K/2, on the pixels (s p + 1, s q + 1)
  BatchNorm2d bn;   ///< over the K concatenated channels

 private:
  std::size_t C_, K_, stride_;
  Shape in_shape_{};
};

/// @brief One residual branch of Shake-Shake: ReLU - conv3x3 (stride) - BN - ReLU - conv3x3 -
/// BN (a pre-activated BasicBlock path). Children named relu_in, conv1, bn1, relu, conv2, bn2.
std::unique_ptr<Sequential> shake_branch(std::size_t in_channels, std::size_t out_channels,
                                         std::size_t stride);

/// @brief The Shake-Shake residual block: y = shortcut(x) + alpha b1(x) + (1 - alpha) b2(x),
/// no ReLU after the sum (each branch starts with one).
///
/// Training draws alpha (then beta, unless Keep or Even) from global_rng() at every forward, one
/// value per image (ShakeLevel::Image) or one per batch; evaluation uses alpha = beta = 0.5,
/// the expectation of U(0, 1). set_coefficients() fixes alpha and beta for tests.
///
/// state_dict: residual_path1.{conv1,bn1,conv2,bn2}.*, residual_path2.*, shortcut.* (when the
/// width or stride changes: ShakeShortcut).
class ShakeShakeBlock : public Module {
 public:
  /// @param in_channels C
  /// @param out_channels K
  /// @param stride of both branches' first conv3x3 and of the shortcut
  /// @param options the variant (default Shake-Shake-Image)
  /// @throws Error when a size is 0, or the shortcut is needed and K is odd.
  ShakeShakeBlock(std::size_t in_channels, std::size_t out_channels, std::size_t stride = 1,
                  ShakeOptions options = {});
  /// @brief shortcut(x) + alpha b1(x) + (1 - alpha) b2(x); caches what backward needs.
  /// @throws Error when fixed coefficients do not have one value per image.
  Tensor forward(const Tensor& x) override;
  /// @brief dx = db1/dx^T (beta dy) + db2/dx^T ((1 - beta) dy) + dshortcut/dx^T dy.
  /// @throws Error when dy does not have the last forward output's shape.
  Tensor backward(const Tensor& dy) override;
  /// @brief e.g. "ShakeShakeBlock(16, 32, stride=2, Shake-Shake-Image)".
  std::string repr() const override;

  /// @brief Training forwards and backwards use these alpha and beta (one value per image, in
  /// [0, 1]) instead of drawing them, until clear_coefficients(). Evaluation still uses 0.5.
  /// @throws Error when the two sizes differ, are 0, or a value is outside [0, 1].
  void set_coefficients(std::vector<double> alpha, std::vector<double> beta);
  /// @brief Back to drawing alpha and beta in training.
  void clear_coefficients();
  /// @brief The alpha of the last forward, one per image.
  const std::vector<Scalar>& alpha() const { return alpha_; }
  /// @brief The beta of the last forward (used by the next backward), one per image.
  const std::vector<Scalar>& beta() const { return beta_; }
  /// @brief The variant.
  const ShakeOptions& options() const { return options_; }
  /// @brief The shortcut module, or nullptr for the identity.
  Module* shortcut() const { return shortcut_.get(); }

  std::unique_ptr<Sequential> residual_path1;  ///< b1
  std::unique_ptr<Sequential> residual_path2;  ///< b2, same shapes, its own weights

 private:
  void choose_coefficients(std::size_t N);

  ModulePtr shortcut_;
  std::size_t C_, K_, stride_;
  ShakeOptions options_;
  std::vector<double> fixed_alpha_, fixed_beta_;
  std::vector<Scalar> alpha_, beta_;
  Shape out_shape_{};
};

}  // namespace convbook
