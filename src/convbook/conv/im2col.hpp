#pragma once
/// @file im2col.hpp
/// @brief Convolution as a matrix product: im2col/col2im and the GEMM-based conv2d.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G groups, Cg = C/G and Kg = K/G channels per group.
///
/// im2col copies, for one image and one group, every receptive field of the input into a
/// column of a (Cg*R*S) x (P*Q) matrix; the convolution of that group is then one GEMM,
/// (Kg x Cg*R*S) weight times (Cg*R*S x P*Q) columns = (Kg x P*Q) output. The kernels here
/// never store that matrix: the GEMM's packer (Im2colPacker) reads its slivers from the padded
/// image (the implicit im2col); im2col and col2im stay as the reference and for strided dx.
#include <vector>

#include "convbook/conv/conv_naive.hpp"
#include "convbook/gemm/gemm.hpp"

namespace convbook {

/// @brief Unfolds one group of one image into columns.
/// @param g    sizes and options; the group has Cg = g.C / g.G channels
/// @param x    the group's input channels (Cg, H, W), contiguous
/// @param col  (Cg*R*S, P*Q), overwritten: col[(c*R + r)*S + s][p*Q + q] is the input value
///             tap (r, s) of channel c sees at output position (p, q), 0 in the padding
template <typename T>
void im2col(const ConvGeometry& g, const T* x, T* col);

/// @brief The adjoint of im2col: adds every column entry back to the input pixel it came from.
/// @param g    sizes and options; the group has Cg = g.C / g.G channels
/// @param col  (Cg*R*S, P*Q)
/// @param x    (Cg, H, W), overwritten with the sums (entries from the padding are dropped)
template <typename T>
void col2im(const ConvGeometry& g, const T* col, T* x);

/// @brief Scalars of one group of one image as pad_image writes it: Cg * (H + 2*pad_h) *
/// (W + 2*pad_w), the row length rounded up to a multiple of stride_w.
std::size_t padded_image_size(const ConvGeometry& g);

/// @brief Writes one group of one image with its zero border, each row split into stride_w
/// phases (columns v % stride_w == 0 first, then 1, ...): the form the implicit im2col packers
/// read, in which the pixels of consecutive outputs are contiguous and the padding needs no test.
/// @param g       sizes and options; the group has Cg = g.C / g.G channels
/// @param x       the group's input channels (Cg, H, W), contiguous
/// @param padded  padded_image_size(g) scalars, overwritten: channel c, padded row h, column
///                v at ((c * (H + 2*pad_h) + h) * stride_w + v % stride_w) * ceil((W +
///                2*pad_w) / stride_w) + v / stride_w
template <typename T>
void pad_image(const ConvGeometry& g, const T* x, T* padded);

/// @brief The implicit im2col: packs GEMM slivers of col = im2col(x) (Cg*R*S x P*Q) straight
/// from the image, so that gemm_packed_b computes w * col without col ever being stored.
template <typename T>
class Im2colPacker final : public GemmBPacker<T> {
 public:
  /// @param g       sizes and options; kept by reference, so it must outlive the packer
  /// @param padded  one group of one image with its zero border, as pad_image writes it
  Im2colPacker(const ConvGeometry& g, const T* padded) : g_(g), padded_(padded) {}
  /// @brief Writes col[p0 + p][j0 + c] to Bp[p * nr + c] (zeros for columns past P*Q).
  void pack(int p0, int kc, int j0, int nr, T* Bp) const override;

 private:
  const ConvGeometry& g_;
  const T* padded_;
};

/// @brief Packs GEMM slivers of col^T (P*Q x Cg*R*S) from the image, for the weight gradient
/// dw = dy * col^T.
template <typename T>
class Im2colTransposedPacker final : public GemmBPacker<T> {
 public:
  /// @param g       sizes and options; kept by reference, so it must outlive the packer
  /// @param padded  one group of one image with its zero border, as pad_image writes it
  Im2colTransposedPacker(const ConvGeometry& g, const T* padded) : g_(g), padded_(padded) {}
  /// @brief Writes col[j0 + c][p0 + p] to Bp[p * nr + c] (zeros for columns past Cg*R*S).
  void pack(int p0, int kc, int j0, int nr, T* Bp) const override;

 private:
  const ConvGeometry& g_;
  const T* padded_;
};

/// @brief Number of scalars the im2col kernels need in their workspace: per thread, the padded
/// image and private dw and db sums, plus the padded dy at stride 1 (and once the flipped
/// weights), dcol (Cg*R*S x P*Q) otherwise.
std::size_t conv2d_im2col_workspace_size(const ConvGeometry& g);

/// @brief Same result as conv2d_forward_naive, computed as one GEMM per image and group whose
/// B operand, im2col(x), is packed straight from the padded x (Im2colPacker).
/// @param g          sizes and options
/// @param x          input (N, C, H, W)
/// @param w          weight (K, C/G, R, S)
/// @param bias       bias (K), or nullptr
/// @param y          output (N, K, P, Q), overwritten
/// @param workspace  scratch memory, grown when too small and reused across calls
template <typename T>
void conv2d_forward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace);

/// @brief Same result as conv2d_backward_naive, with GEMMs: dW += dY * col^T (col^T packed
/// from x); dx as a convolution of dY with the flipped kernel at stride 1, else
/// dcol = W^T * dY then col2im; db += sum of dY over N, P, Q.
/// @param g          sizes and options
/// @param x          the forward input (N, C, H, W)
/// @param w          the forward weight (K, C/G, R, S)
/// @param dy         dL/dy (N, K, P, Q)
/// @param dx         dL/dx (N, C, H, W), overwritten; nullptr to skip
/// @param dw         dL/dw (K, C/G, R, S), accumulated; nullptr to skip
/// @param db         dL/db (K), accumulated; nullptr to skip
/// @param workspace  scratch memory, grown when too small and reused across calls
template <typename T>
void conv2d_backward_im2col(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx,
                            T* dw, T* db, std::vector<T>& workspace);

}  // namespace convbook
