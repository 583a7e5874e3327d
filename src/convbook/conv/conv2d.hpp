#pragma once
/// @file conv2d.hpp
/// @brief Conv2d, PyTorch's nn.Conv2d as a Module, with libtorch-style options.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups. Shapes: x: (N, C, H, W)  weight: (K, C/G, R, S)  bias: (K)  y: (N, K, P, Q).
///
/// @code
/// Conv2d conv(Conv2dOptions(3, 16, 3).stride(1).padding(1).bias(false));
/// Conv2d wide(Conv2dOptions(16, 32, {1, 7}).padding({0, 3}).groups(4));
/// @endcode
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "convbook/conv/conv_naive.hpp"
#include "convbook/error.hpp"
#include "convbook/module.hpp"
#include "convbook/tensor.hpp"

namespace convbook {

/// @brief A (height, width) pair of sizes: `3` means (3, 3), `{1, 7}` means (1, 7).
struct Pair {
  std::size_t h = 0;  ///< height (rows)
  std::size_t w = 0;  ///< width (columns)

  /// @brief A square pair (v, v). @throws Error when v is negative.
  template <typename I, typename = std::enable_if_t<std::is_integral_v<I>>>
  Pair(I v) : Pair(v, v) {}  // NOLINT: implicit on purpose, as in libtorch's ExpandingArray
  /// @brief The pair (h, w). @throws Error when a value is negative.
  template <typename I, typename J,
            typename = std::enable_if_t<std::is_integral_v<I> && std::is_integral_v<J>>>
  Pair(I h_, J w_) : h(checked(h_)), w(checked(w_)) {}

  /// @brief True when both sizes are equal.
  bool operator==(const Pair& o) const { return h == o.h && w == o.w; }
  /// @brief True when a size differs.
  bool operator!=(const Pair& o) const { return !(*this == o); }

 private:
  template <typename I>
  static std::size_t checked(I v) {
    if constexpr (std::is_signed_v<I>) {
      if (v < 0) throw Error("Conv2dOptions: sizes must be >= 0, got " + std::to_string(v));
    }
    return std::size_t(v);
  }
};

/// @brief The options of a Conv2d, written like libtorch's
/// `Conv2dOptions(3, 16, 3).stride(1).padding(1)`: each setter returns *this, each getter
/// of the same name returns the value.
class Conv2dOptions {
 public:
  /// @brief The required options; the rest default as in PyTorch (stride 1, padding 0,
  /// dilation 1, groups 1, bias true).
  Conv2dOptions(std::size_t in_channels, std::size_t out_channels, Pair kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}

  /// @brief Input channels C.
  std::size_t in_channels() const { return in_channels_; }
  /// @brief Output channels K.
  std::size_t out_channels() const { return out_channels_; }
  /// @brief Kernel size (R, S).
  const Pair& kernel_size() const { return kernel_size_; }

  /// @brief Sets the step between two output positions (default 1).
  Conv2dOptions& stride(Pair v) {
    stride_ = v;
    return *this;
  }
  /// @brief The stride.
  const Pair& stride() const { return stride_; }
  /// @brief Sets the zeros added on each side (default 0): {1, 2} pads 1 row above and below,
  /// 2 columns left and right.
  Conv2dOptions& padding(Pair v) {
    padding_ = v;
    return *this;
  }
  /// @brief The padding.
  const Pair& padding() const { return padding_; }
  /// @brief Sets the spacing between kernel taps (default 1, a dense kernel).
  Conv2dOptions& dilation(Pair v) {
    dilation_ = v;
    return *this;
  }
  /// @brief The dilation.
  const Pair& dilation() const { return dilation_; }
  /// @brief Sets the number of groups G (default 1); G must divide C and K.
  Conv2dOptions& groups(std::size_t v) {
    groups_ = v;
    return *this;
  }
  /// @brief The number of groups.
  std::size_t groups() const { return groups_; }
  /// @brief Sets whether a learnable bias is added (default true).
  Conv2dOptions& bias(bool v) {
    bias_ = v;
    return *this;
  }
  /// @brief Whether a bias is added.
  bool bias() const { return bias_; }

  /// @brief Checks the options on their own.
  /// @throws Error naming the option, its value and what was expected when a size, stride,
  ///   dilation or groups is zero, or groups does not divide in_channels or out_channels.
  void validate() const;

 private:
  std::size_t in_channels_, out_channels_;
  Pair kernel_size_;
  Pair stride_ = 1;
  Pair padding_ = 0;
  Pair dilation_ = 1;
  std::size_t groups_ = 1;
  bool bias_ = true;
};

/// @brief How Conv2d computes. Auto picks one of the others per input shape
/// (see pick_conv_algo); the others force one kernel.
enum class ConvAlgo {
  Auto,       ///< chosen per shape by pick_conv_algo
  Naive,      ///< the seven-loop reference (conv_naive.hpp)
  Im2col,     ///< im2col + GEMM, any configuration (im2col.hpp)
  Winograd2,  ///< Winograd F(2x2, 3x3): 3x3, stride 1, dilation 1 (winograd.hpp)
  Winograd4,  ///< Winograd F(4x4, 3x3): 3x3, stride 1, dilation 1 (winograd.hpp)
  Direct,     ///< direct SIMD loops for few channels per group, C/G <= 4 (direct.hpp)
  Depthwise,  ///< direct SIMD loops for depthwise, G == C == K (direct.hpp)
  Pointwise,  ///< 1x1, padding 0, as a GEMM without im2col (pointwise.hpp)
  Grouped,    ///< a kernel per group: stride 1, C/G <= 16 and K/G <= 16 (grouped.hpp)
};

/// @brief Every ConvAlgo, Auto first, in declaration order.
const std::vector<ConvAlgo>& all_conv_algos();

/// @brief The name of an algorithm: "auto", "naive", "im2col", "winograd2", "winograd4",
/// "direct", "depthwise", "pointwise" or "grouped".
std::string to_string(ConvAlgo algo);

/// @brief The algorithm of a name written by to_string.
/// @throws Error naming the text and listing the valid names.
ConvAlgo parse_conv_algo(const std::string& name);

/// @brief True when `algo` can compute the convolution `g` (Auto and the general ones,
/// Naive and Im2col, support everything).
bool conv_algo_supports(ConvAlgo algo, const ConvGeometry& g);

/// @brief What `algo` needs, in words, e.g. "a 3x3 stride-1 dilation-1 kernel"; empty for
/// the algorithms that support every configuration.
std::string conv_algo_requirement(ConvAlgo algo);

/// @brief The algorithm ConvAlgo::Auto uses for `g`: the first rule that applies of
/// pointwise (1x1, padding 0), depthwise (G == C == K), grouped (stride 1, C/G <= 16 and
/// K/G <= 16: the stride-1 stem and the dense layers of 16 channels included), direct
/// (C/G <= 4, strided), Winograd F(4x4,3x3) (3x3 stride 1 dilation 1, >= 32 channels per group
/// in and out) and im2col (everything else). Never returns Auto or Naive. The measured times behind
/// each rule are in conv2d.cpp.
ConvAlgo pick_conv_algo(const ConvGeometry& g);

/// @brief y = conv2d(x, w) + bias with the given algorithm (Auto resolved by pick_conv_algo).
/// Shapes and pointers as conv2d_forward_naive; `workspace` grows and is reused.
/// @throws Error when the algorithm does not support `g` (see conv_algo_supports).
template <typename T>
void conv2d_forward(ConvAlgo algo, const ConvGeometry& g, const T* x, const T* w, const T* bias,
                    T* y, std::vector<T>& workspace);

/// @brief The backward of conv2d_forward with the same algorithm: dx overwritten, dw and db
/// accumulated, null pointers skipped (as conv2d_backward_naive).
/// @throws Error when the algorithm does not support `g`.
template <typename T>
void conv2d_backward(ConvAlgo algo, const ConvGeometry& g, const T* x, const T* w, const T* dy,
                     T* dx, T* dw, T* db, std::vector<T>& workspace);

/// @brief The process-wide scratch arena every Conv2d uses for its kernels' workspaces.
///
/// One buffer, grown to the largest need seen and then reused by every layer, so a trained
/// network allocates no scratch memory after its first batch. Layers run one after the other,
/// so sharing is safe within one model; it is NOT thread-safe: two models running forward or
/// backward at the same time in different threads would overwrite each other's scratch.
std::vector<Scalar>& conv_workspace_arena();

/// @brief The sizes of the convolution `o` describes applied to an `input` (N, C, H, W): the
/// ConvGeometry the kernels take. No checks: Conv2d checks the channels and that the kernel
/// fits before it asks (chapter 08's deformable layer builds on the same geometry).
ConvGeometry conv_geometry(const Conv2dOptions& o, const Shape& input);

/// @brief A 2-D convolution layer with PyTorch's nn.Conv2d semantics (zero padding).
///
/// Parameters, as in PyTorch's state_dict: `weight` (K, C/G, R, S), initialized
/// kaiming_normal_(fan_out, relu) as torchvision's ResNet does, and `bias` (K), zero, present
/// only when options.bias() is true.
class Conv2d : public Module {
 public:
  /// @brief A convolution with the given options. @throws Error on invalid options.
  explicit Conv2d(const Conv2dOptions& options);

  /// @brief y = conv2d(x, weight) + bias; x must be (N, C, H, W) with C = in_channels.
  /// @throws Error when the channels differ or the dilated kernel is larger than the padded
  ///   input.
  Tensor forward(const Tensor& x) override;
  /// @brief forward(x) for a temporary x (a block's chain of layers): keeps x itself for
  /// backward instead of a copy of it.
  Tensor forward(Tensor&& x);
  /// @brief dx from dy; accumulates weight.grad and bias.grad.
  Tensor backward(const Tensor& dy) override;
  /// @brief PyTorch's repr, e.g. "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1),
  ///   padding=(1, 1), bias=False)".
  std::string repr() const override;
  /// @brief 2 * N*K*P*Q * (C/G)*R*S of the last forward (0 before the first).
  double flops() const override;

  /// @brief Chooses the algorithm of forward and backward (default ConvAlgo::Auto). A forced
  /// algorithm that does not support the layer makes forward throw.
  void set_algorithm(ConvAlgo algo) { algo_ = algo; }
  /// @brief The algorithm set (ConvAlgo::Auto unless set_algorithm was called).
  ConvAlgo algorithm() const { return algo_; }
  /// @brief The algorithm the last forward ran (what Auto chose); ConvAlgo::Auto before the
  /// first forward. Backward uses the same one.
  ConvAlgo chosen_algorithm() const { return chosen_; }
  /// @brief The options this layer was built with.
  const Conv2dOptions& options() const { return options_; }
  /// @brief The output shape (N, K, P, Q) for an input shape (N, C, H, W).
  /// @throws Error as forward does for an invalid input shape.
  Shape output_shape(const Shape& input) const;

  Parameter weight;  ///< (K, C/G, R, S)
  Parameter bias;    ///< (K); not registered when options.bias() is false

 private:
  ConvGeometry geometry(const Shape& input) const;
  Tensor run_forward(const Tensor& x);  // y, with last_ and chosen_ set; keeps nothing

  Conv2dOptions options_;
  ConvAlgo algo_ = ConvAlgo::Auto;
  ConvAlgo chosen_ = ConvAlgo::Auto;  // what the last forward ran; backward runs it too
  Tensor input_;                      // the last forward input, for backward
  ConvGeometry last_;                 // its geometry
  bool has_input_ = false;            // input_ holds x (not under NoGradGuard)
  bool ran_forward_ = false;          // last_ is the last forward's geometry
};

}  // namespace convbook
