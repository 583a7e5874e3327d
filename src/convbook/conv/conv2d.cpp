/// @file conv2d.cpp
/// @brief Conv2d: option checks, shapes, the algorithm picker and the dispatch to the kernels.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups.
#include "convbook/conv/conv2d.hpp"

#include <sstream>
#include <utility>

#include "convbook/conv/direct.hpp"
#include "convbook/conv/grouped.hpp"
#include "convbook/conv/im2col.hpp"
#include "convbook/conv/pointwise.hpp"
#include "convbook/conv/winograd.hpp"
#include "convbook/init.hpp"
#include "convbook/profile.hpp"

namespace convbook {

namespace {
// Auto's Winograd rule (see pick_conv_algo): the fewest channels per group, in and out, for
// which Winograd was measured to beat im2col forward+backward (32; at 16 im2col won), and the
// tile size, F(4x4,3x3), faster than F(2x2,3x3) on every measured shape.
constexpr int kWinogradMinChannels = 32;
constexpr int kWinogradTile = 4;

std::string str(const Pair& p) {
  return "(" + std::to_string(p.h) + ", " + std::to_string(p.w) + ")";
}

void require_positive(const char* name, const Pair& p) {
  if (p.h == 0 || p.w == 0) {
    throw Error(std::string("Conv2d: ") + name + "=" + str(p) + " must be >= 1 in both dimensions");
  }
}
// "5x5 stride (1, 1) dilation (1, 1) groups 1, C=32 K=32": what a requirement is checked on.
std::string describe(const ConvGeometry& g) {
  return std::to_string(g.R) + "x" + std::to_string(g.S) + " stride (" +
         std::to_string(g.stride_h) + ", " + std::to_string(g.stride_w) + ") padding (" +
         std::to_string(g.pad_h) + ", " + std::to_string(g.pad_w) + ") dilation (" +
         std::to_string(g.dil_h) + ", " + std::to_string(g.dil_w) + ") groups " +
         std::to_string(g.G) + ", C=" + std::to_string(g.C) + " K=" + std::to_string(g.K);
}

ConvAlgo resolve(ConvAlgo algo, const ConvGeometry& g) {
  if (algo == ConvAlgo::Auto) return pick_conv_algo(g);
  if (!conv_algo_supports(algo, g)) {
    throw Error("Conv2d: algorithm " + to_string(algo) + " needs " + conv_algo_requirement(algo) +
                ", got " + describe(g));
  }
  return algo;
}
}  // namespace

//! [conv-algos]
const std::vector<ConvAlgo>& all_conv_algos() {
  static const std::vector<ConvAlgo> algos = {
      ConvAlgo::Auto,      ConvAlgo::Naive,     ConvAlgo::Im2col,
      ConvAlgo::Winograd2, ConvAlgo::Winograd4, ConvAlgo::Direct,
      ConvAlgo::Depthwise, ConvAlgo::Pointwise, ConvAlgo::Grouped};
  return algos;
}

std::string to_string(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::Auto:
      return "auto";
    case ConvAlgo::Naive:
      return "naive";
    case ConvAlgo::Im2col:
      return "im2col";
    case ConvAlgo::Winograd2:
      return "winograd2";
    case ConvAlgo::Winograd4:
      return "winograd4";
    case ConvAlgo::Direct:
      return "direct";
    case ConvAlgo::Depthwise:
      return "depthwise";
    case ConvAlgo::Pointwise:
      return "pointwise";
    case ConvAlgo::Grouped:
      return "grouped";
  }
  return "unknown";
}

ConvAlgo parse_conv_algo(const std::string& name) {
  std::string names;
  for (ConvAlgo a : all_conv_algos()) {
    if (to_string(a) == name) return a;
    names += (names.empty() ? "" : ", ") + to_string(a);
  }
  throw Error("convolution algorithm '" + name + "' is unknown, expected one of: " + names);
}

bool conv_algo_supports(ConvAlgo algo, const ConvGeometry& g) {
  switch (algo) {
    case ConvAlgo::Winograd2:
    case ConvAlgo::Winograd4:
      return winograd_supports(g);
    case ConvAlgo::Direct:
      return direct_supports(g);
    case ConvAlgo::Depthwise:
      return depthwise_supports(g);
    case ConvAlgo::Pointwise:
      return pointwise_supports(g);
    case ConvAlgo::Grouped:
      return grouped_supports(g);
    default:
      return true;  // Auto, Naive, Im2col: any configuration
  }
}

std::string conv_algo_requirement(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::Winograd2:
    case ConvAlgo::Winograd4:
      return "a 3x3 stride-1 dilation-1 kernel";
    case ConvAlgo::Direct:
      return "at most 4 input channels per group (C/G <= 4)";
    case ConvAlgo::Depthwise:
      return "a depthwise layer (groups == in_channels == out_channels)";
    case ConvAlgo::Pointwise:
      return "a 1x1 kernel with padding 0";
    case ConvAlgo::Grouped:
      return "stride 1 and at most 32 input and 32 output channels per group (C/G <= 32, "
             "K/G <= 32)";
    default:
      return "";
  }
}
//! [conv-algos]

//! [conv-picker]
// The rules, most specialized first. Numbers: `convbook bench conv --threads 1 --repeats 10`
// at batch 128, ms forward / forward+backward, measured on this 2-core AVX-512 machine while
// other builds ran: only differences of about 1.2x or more are read as real. Training runs
// forward+backward, so that column decides.
ConvAlgo pick_conv_algo(const ConvGeometry& g) {
  // 1x1 with no padding: one GEMM per image straight on the input, no im2col copy and no
  // workspace. On 1x1_64-256_8x8 pointwise and im2col tie (4.9 / 26.4 vs 5.2 / 23.7), so the
  // saved memory decides.
  if (pointwise_supports(g)) return ConvAlgo::Pointwise;
  // Depthwise (G == C == K): 9 MACs per output make a GEMM with a reduction of 9, which starves
  // the microkernel. dw3x3_64_16x16: depthwise 5.2 / 16.4, direct 6.3 / 18.8, im2col
  // 22.9 / 101.
  if (depthwise_supports(g)) return ConvAlgo::Depthwise;
  // Stride 1 with at most 16 channels per group, in and out: a register block of output
  // channels x rows per group beats every GEMM-based kernel, whose reduction Cg*R*S <= 144 is
  // short and whose tiles are mostly empty with Kg <= 16 (--repeats 5). 3x3g32_128-128_16x16:
  // grouped 5.8 / 23.0, direct 33.4 / 74.5, winograd4 28.9 / 121, im2col 37.5 / 131;
  // 3x3_16-16_32x32: grouped 11.0 / 26.7, winograd4 14.8 / 56.6, im2col 17.5 / 61.7; stem
  // 3x3_3-16_32x32: grouped 1.9 / 6.6, direct 2.3 / 9.5. Also measured (a scratch driver timing the
  // same calls, batch 128, best of 5): 8x8 images with 8 channels per group 2.4 / 9.7 against
  // winograd4 5.2 / 20.9; with 16 per group level with winograd4 (20.0 vs 18.5 ms fwd+bwd). It
  // loses only to the depthwise kernel (dw3x3_128_8x8: 1.9 / 6.0 against 1.2 / 3.6), hence the
  // order. Winograd with 16 channels in each vector and its products in cache (winograd.cpp)
  // ties it on 3x3_16-16_32x32, forward+backward best of five 23.5 against grouped 23.1 ms at
  // one thread, 12.6 against 11.6 at two: grouped stays.
  if (grouped_supports(g) && g.C / g.G <= 16 && g.K / g.G <= 16) return ConvAlgo::Grouped;
  // Few channels per group (C/G <= 4) with a stride (stride 1 went to grouped above): the
  // GEMM's reduction C/G*R*S <= 36 is too short, direct loops win. Stem 3x3_3-16_32x32 (at
  // stride 1): direct 2.5 / 12.5, im2col 5.0 / 19.5.
  if (direct_supports(g)) return ConvAlgo::Direct;
  // Dense 3x3 stride 1 with enough channels: F(4x4,3x3) does 4x fewer multiplications than
  // im2col, F(2x2,3x3) 2.25x, but pays for its transforms. winograd4 vs im2col:
  // 3x3_64-64_8x8 6.5 / 25.6 vs 11.4 / 32.7, 3x3_32-32_16x16 10.3 / 38.5 vs 16.4 / 47.9, but
  // 3x3_16-16_32x32 19.9 / 73.1 vs 20.8 / 62.1: at 16 channels im2col wins forward+backward.
  // winograd2 was slower than winograd4 on every shape (e.g. 15.2 / 46.7 at 32 channels).
  if (winograd_supports(g) && g.C / g.G >= kWinogradMinChannels &&
      g.K / g.G >= kWinogradMinChannels) {
    return kWinogradTile == 4 ? ConvAlgo::Winograd4 : ConvAlgo::Winograd2;
  }
  // Stride 1 with 17 to 32 channels per group where Winograd does not apply (5x5, dilated) and
  // output rows of at least a vector (16 floats): the register block still beats im2col, whose
  // packing of the column slivers the direct kernel does not need. 5x5_32-32_16x16: grouped
  // 15.8 / 57.0, im2col 20.0 / 61.7; 3x3d2_32-32_16x16: grouped 6.5 / 22.7, im2col 7.9 / 24.7
  // (1 thread; 2 threads 7.9 / 29.2 vs 10.3 / 32.3 and 3.3 / 11.8 vs 4.1 / 13.0). With rows of
  // 8 (3x3_64-64_8x8) half of every vector is idle and it loses (11.4 / 50.1 vs im2col 8.0 /
  // 24.9), and dense 3x3 goes to Winograd above.
  if (grouped_supports(g) && g.Q() >= 16) return ConvAlgo::Grouped;
  // Everything else (strided, dense 3x3 with 17 to 31 channels, wider layers, rows shorter than a
  // vector): im2col, which handles every configuration.
  return ConvAlgo::Im2col;
}
//! [conv-picker]

template <typename T>
void conv2d_forward(ConvAlgo algo, const ConvGeometry& g, const T* x, const T* w, const T* bias,
                    T* y, std::vector<T>& workspace) {
  switch (resolve(algo, g)) {
    case ConvAlgo::Naive:
      conv2d_forward_naive(g, x, w, bias, y);
      break;
    case ConvAlgo::Winograd2:
      conv2d_forward_winograd(g, 2, x, w, bias, y, workspace);
      break;
    case ConvAlgo::Winograd4:
      conv2d_forward_winograd(g, 4, x, w, bias, y, workspace);
      break;
    case ConvAlgo::Direct:
      conv2d_forward_direct(g, x, w, bias, y, workspace);
      break;
    case ConvAlgo::Depthwise:
      conv2d_forward_depthwise(g, x, w, bias, y, workspace);
      break;
    case ConvAlgo::Pointwise:
      conv2d_forward_pointwise(g, x, w, bias, y, workspace);
      break;
    case ConvAlgo::Grouped:
      conv2d_forward_grouped(g, x, w, bias, y, workspace);
      break;
    default:
      conv2d_forward_im2col(g, x, w, bias, y, workspace);
      break;
  }
}

template <typename T>
void conv2d_backward(ConvAlgo algo, const ConvGeometry& g, const T* x, const T* w, const T* dy,
                     T* dx, T* dw, T* db, std::vector<T>& workspace) {
  switch (resolve(algo, g)) {
    case ConvAlgo::Naive:
      conv2d_backward_naive(g, x, w, dy, dx, dw, db);
      break;
    case ConvAlgo::Winograd2:
      conv2d_backward_winograd(g, 2, x, w, dy, dx, dw, db, workspace);
      break;
    case ConvAlgo::Winograd4:
      conv2d_backward_winograd(g, 4, x, w, dy, dx, dw, db, workspace);
      break;
    case ConvAlgo::Direct:
      conv2d_backward_direct(g, x, w, dy, dx, dw, db, workspace);
      break;
    case ConvAlgo::Depthwise:
      conv2d_backward_depthwise(g, x, w, dy, dx, dw, db, workspace);
      break;
    case ConvAlgo::Pointwise:
      conv2d_backward_pointwise(g, x, w, dy, dx, dw, db, workspace);
      break;
    case ConvAlgo::Grouped:
      conv2d_backward_grouped(g, x, w, dy, dx, dw, db, workspace);
      break;
    default:
      conv2d_backward_im2col(g, x, w, dy, dx, dw, db, workspace);
      break;
  }
}

template void conv2d_forward<float>(ConvAlgo, const ConvGeometry&, const float*, const float*,
                                    const float*, float*, std::vector<float>&);
template void conv2d_forward<double>(ConvAlgo, const ConvGeometry&, const double*, const double*,
                                     const double*, double*, std::vector<double>&);
template void conv2d_backward<float>(ConvAlgo, const ConvGeometry&, const float*, const float*,
                                     const float*, float*, float*, float*, std::vector<float>&);
template void conv2d_backward<double>(ConvAlgo, const ConvGeometry&, const double*, const double*,
                                      const double*, double*, double*, double*,
                                      std::vector<double>&);

std::vector<Scalar>& conv_workspace_arena() {
  static std::vector<Scalar> arena;  // see the header: shared by all layers, not thread-safe
  return arena;
}

void Conv2dOptions::validate() const {
  if (in_channels_ == 0) throw Error("Conv2d: in_channels=0, expected >= 1");
  if (out_channels_ == 0) throw Error("Conv2d: out_channels=0, expected >= 1");
  require_positive("kernel_size", kernel_size_);
  require_positive("stride", stride_);
  require_positive("dilation", dilation_);
  if (groups_ == 0) throw Error("Conv2d: groups=0, expected >= 1");
  if (in_channels_ % groups_ != 0) {
    throw Error("Conv2d: groups=" + std::to_string(groups_) +
                " must divide in_channels=" + std::to_string(in_channels_));
  }
  if (out_channels_ % groups_ != 0) {
    throw Error("Conv2d: groups=" + std::to_string(groups_) +
                " must divide out_channels=" + std::to_string(out_channels_));
  }
}

Conv2d::Conv2d(const Conv2dOptions& options) : options_(options) {
  options_.validate();
  const std::size_t K = options_.out_channels(), Cg = options_.in_channels() / options_.groups();
  weight = Parameter::make({K, Cg, options_.kernel_size().h, options_.kernel_size().w});
  // fan_out = K*R*S keeps the variance of the backward signal at 2/(K*R*S) (He et al. 2015),
  // torchvision's choice for ResNets.
  kaiming_normal_(weight, FanMode::FanOut);
  register_parameter("weight", &weight);
  if (options_.bias()) {
    bias = Parameter::make({K});  // zero, as torchvision's ResNet init leaves it
    register_parameter("bias", &bias);
  }
}

ConvGeometry conv_geometry(const Conv2dOptions& o, const Shape& input) {
  const Pair& k = o.kernel_size();
  ConvGeometry g;
  g.N = int(input[0]);
  g.C = int(input[1]);
  g.H = int(input[2]);
  g.W = int(input[3]);
  g.K = int(o.out_channels());
  g.R = int(k.h);
  g.S = int(k.w);
  g.stride_h = int(o.stride().h);
  g.stride_w = int(o.stride().w);
  g.pad_h = int(o.padding().h);
  g.pad_w = int(o.padding().w);
  g.dil_h = int(o.dilation().h);
  g.dil_w = int(o.dilation().w);
  g.G = int(o.groups());
  return g;
}

ConvGeometry Conv2d::geometry(const Shape& input) const {
  const Conv2dOptions& o = options_;
  if (input[1] != o.in_channels()) {
    throw Error("Conv2d: input " + to_string(input) + " has " + std::to_string(input[1]) +
                " channels, expected in_channels=" + std::to_string(o.in_channels()));
  }
  const Pair& k = o.kernel_size();
  const std::size_t span_h = o.dilation().h * (k.h - 1) + 1,
                    span_w = o.dilation().w * (k.w - 1) + 1;
  const std::size_t padded_h = input[2] + 2 * o.padding().h,
                    padded_w = input[3] + 2 * o.padding().w;
  if (span_h > padded_h || span_w > padded_w) {
    throw Error("Conv2d: effective kernel (dilation*(kernel-1)+1) = (" + std::to_string(span_h) +
                ", " + std::to_string(span_w) + ") is larger than the padded input (H+2*padding, " +
                "W+2*padding) = (" + std::to_string(padded_h) + ", " + std::to_string(padded_w) +
                ") of input " + to_string(input) + "; expected it to fit");
  }
  return conv_geometry(o, input);
}

Shape Conv2d::output_shape(const Shape& input) const {
  const ConvGeometry g = geometry(input);
  return {input[0], options_.out_channels(), std::size_t(g.P()), std::size_t(g.Q())};
}

Tensor Conv2d::run_forward(const Tensor& x) {
  if (x.dimension() != 4) {
    throw Error("Conv2d: input has " + std::to_string(x.dimension()) +
                " dimensions, expected 4 (N, C, H, W)");
  }
  const Shape in = shape_of(x);
  last_ = geometry(in);
  ran_forward_ = true;
  Tensor y = empty(output_shape(in));  // every algorithm writes all of y
  const Scalar* b = options_.bias() ? bias.value.data() : nullptr;
  chosen_ = resolve(algo_, last_);  // throws here, before any work, for an unsupported layer
  conv2d_forward(chosen_, last_, x.data(), weight.value.data(), b, y.data(),
                 conv_workspace_arena());
  return y;
}

Tensor Conv2d::forward(const Tensor& x) {
  const ProfileScope scope(this, Pass::forward);
  Tensor y = run_forward(x);
  has_input_ = grad_enabled();
  if (has_input_) {
    copy_into(input_, x);  // backward needs x for the weight gradient
  } else {
    input_ = Tensor();
  }
  return y;
}

Tensor Conv2d::forward(Tensor&& x) {
  const ProfileScope scope(this, Pass::forward);
  Tensor y = run_forward(x);
  has_input_ = grad_enabled();
  input_ = has_input_ ? std::move(x) : Tensor();  // x is a temporary: keep it, not a copy
  return y;
}

Tensor Conv2d::backward(const Tensor& dy) {
  const ProfileScope scope(this, Pass::backward);
  if (!has_input_) {
    throw Error("Conv2d: backward called before forward (or after a forward under NoGradGuard)");
  }
  const Shape expected = {std::size_t(last_.N), std::size_t(last_.K), std::size_t(last_.P()),
                          std::size_t(last_.Q())};
  if (shape_of(dy) != expected) {
    throw Error("Conv2d: backward got dy " + to_string(shape_of(dy)) + ", expected " +
                to_string(expected) + " (the shape of the last forward output)");
  }
  Tensor dx = empty(shape_of(input_));  // every algorithm writes all of dx
  Scalar* db = options_.bias() ? bias.grad.data() : nullptr;
  conv2d_backward(chosen_, last_, input_.data(), weight.value.data(), dy.data(), dx.data(),
                  weight.grad.data(), db, conv_workspace_arena());
  return dx;
}

std::string Conv2d::repr() const {
  // As PyTorch's _ConvNd.extra_repr: padding, dilation and groups only when not the default.
  const Conv2dOptions& o = options_;
  std::ostringstream s;
  s << "Conv2d(" << o.in_channels() << ", " << o.out_channels()
    << ", kernel_size=" << str(o.kernel_size()) << ", stride=" << str(o.stride());
  if (o.padding() != Pair(0)) s << ", padding=" << str(o.padding());
  if (o.dilation() != Pair(1)) s << ", dilation=" << str(o.dilation());
  if (o.groups() != 1) s << ", groups=" << o.groups();
  if (!o.bias()) s << ", bias=False";
  s << ")";
  return s.str();
}

double Conv2d::flops() const {
  if (!ran_forward_) return 0;
  const ConvGeometry& g = last_;
  return 2.0 * g.N * g.K * g.P() * g.Q() * (g.C / g.G) * g.R * g.S;
}

}  // namespace convbook
