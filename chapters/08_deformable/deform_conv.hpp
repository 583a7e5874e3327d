#pragma once
/// @file deform_conv.hpp
/// @brief Deformable convolution v1 (learned offsets, Dai et al. 2017) and v2 (offsets and a
/// modulation mask, Zhu et al. 2019) as functional kernels, forward and backward: bilinear
/// sampling, the naive per-pixel loops, and the deformable im2col + GEMM.
///
/// Legend: N batch, C in-channels, K out-channels, H x W input, P x Q output, R x S kernel,
/// G weight groups, OG offset groups. Shapes, exactly as torchvision.ops.deform_conv2d:
///   x: (N, C, H, W)  w: (K, C/G, R, S)  b: (K)  y: (N, K, P, Q)
///   offset: (N, 2*OG*R*S, P, Q), for offset group o and tap k = r*S + s the pair
///           (dy, dx) = (offset[n][2*(o*R*S + k)], offset[n][2*(o*R*S + k) + 1])
///   mask:   (N, OG*R*S, P, Q), mask[n][o*R*S + k]; nullptr for v1 (a mask of ones)
/// Channel c uses offset group c / (C/OG). Tap (r, s) of output (p, q) reads x at
///   h = p*stride_h - pad_h + r*dil_h + dy,  v = q*stride_w - pad_w + s*dil_w + dx,
/// bilinearly, with zeros outside the image.
///
/// The kernels are templates on the scalar type (float and double) and trust their arguments:
/// DeformConv2d validates the configuration before calling them.
#include <cstddef>
#include <vector>

#include "convbook/conv/conv_naive.hpp"

namespace convbook {

/// @brief Which kernels compute a deformable convolution.
enum class DeformAlgo {
  Naive,   ///< deform_conv2d_forward_naive / backward_naive: one bilinear sample per term
  Im2col,  ///< deformable im2col + gemm(), the default of DeformConv2d
};

/// @brief The sizes of a deformable convolution: a ConvGeometry and the offset groups.
struct DeformGeometry : ConvGeometry {
  int OG = 1;  ///< offset groups: channels split in OG sets that share one offset field
};

/// @brief x(h, v) of one plane by bilinear interpolation, zero outside the image: 0 when
/// h <= -1, h >= H, v <= -1 or v >= W; pixels outside the plane count as zeros (torchvision's
/// bilinear_interpolate).
/// @param plane  (H, W), row-major
/// @param H, W   the plane's height and width
/// @param h, v   the position: row h, column v (fractional)
template <typename T>
T bilinear_sample(const T* plane, int H, int W, T h, T v);

/// @brief bilinear_sample and its derivatives with respect to the position, (d/dh, d/dv),
/// from one read of the four pixels. At an integer coordinate (a kink of the interpolant) the
/// derivative is the one from the right, floor(h) and floor(h) + 1 being the two rows used,
/// as torchvision's get_coordinate_weight; pixels outside the plane count as zeros.
/// @param plane  (H, W), row-major
/// @param H, W   the plane's height and width
/// @param h, v   the position: row h, column v (fractional)
/// @param dh     d x(h, v) / dh, overwritten
/// @param dv     d x(h, v) / dv, overwritten
/// @return x(h, v), as bilinear_sample
template <typename T>
T bilinear_sample_position_grad(const T* plane, int H, int W, T h, T v, T* dh, T* dv);

/// @brief The adjoint of bilinear_sample with respect to the plane: adds g times each of the
/// four bilinear weights to its pixel (pixels outside the plane dropped; nothing when the
/// position is outside (-1, H) x (-1, W)).
/// @param plane  (H, W), row-major, accumulated
/// @param H, W   the plane's height and width
/// @param h, v   the position: row h, column v (fractional)
/// @param g      the value to spread (dL/dx(h, v))
template <typename T>
void bilinear_scatter(T* plane, int H, int W, T h, T v, T g);

/// @brief Deformable convolution, the naive reference: for every output and every tap, one
/// bilinear sample.
/// @param g       sizes and options
/// @param x       input (N, C, H, W)
/// @param offset  (N, 2*OG*R*S, P, Q), (dy, dx) pairs
/// @param mask    (N, OG*R*S, P, Q), or nullptr for v1
/// @param w       weight (K, C/G, R, S)
/// @param bias    bias (K), or nullptr
/// @param y       output (N, K, P, Q), overwritten
template <typename T>
void deform_conv2d_forward_naive(const DeformGeometry& g, const T* x, const T* offset,
                                 const T* mask, const T* w, const T* bias, T* y);

/// @brief Backward of deform_conv2d_forward_naive. Overwritten: dx, doffset, dmask;
/// accumulated (+=): dw, db. Null output pointers are skipped.
template <typename T>
void deform_conv2d_backward_naive(const DeformGeometry& g, const T* x, const T* offset,
                                  const T* mask, const T* w, const T* dy, T* dx, T* doffset,
                                  T* dmask, T* dw, T* db);

/// @brief The deformable im2col of one image: col[(c*R + r)*S + s][p*Q + q] = m * x_c(h, v),
/// the (modulated) bilinear sample tap (r, s) of channel c reads for output (p, q).
/// @param g       sizes and options (N ignored)
/// @param x       one image (C, H, W)
/// @param offset  its offsets (2*OG*R*S, P, Q)
/// @param mask    its mask (OG*R*S, P, Q), or nullptr
/// @param col     (C*R*S, P*Q), overwritten
template <typename T>
void deformable_im2col(const DeformGeometry& g, const T* x, const T* offset, const T* mask, T* col);

/// @brief The adjoint of deformable_im2col with respect to the image: every dcol entry goes
/// back, times m and the bilinear weights, to the four pixels its sample read.
/// @param g       sizes and options (N ignored)
/// @param offset  the image's offsets (2*OG*R*S, P, Q)
/// @param mask    its mask (OG*R*S, P, Q), or nullptr
/// @param dcol    (C*R*S, P*Q)
/// @param dx      one image (C, H, W), overwritten
template <typename T>
void deformable_col2im(const DeformGeometry& g, const T* offset, const T* mask, const T* dcol,
                       T* dx);

/// @brief The gradients of deformable_im2col with respect to the offsets and the mask, given
/// dcol: doffset = sum over the group's channels of dcol * m * d x_c / d(position), dmask =
/// sum of dcol * x_c(h, v).
/// @param g        sizes and options (N ignored)
/// @param x        one image (C, H, W)
/// @param offset   its offsets (2*OG*R*S, P, Q)
/// @param mask     its mask (OG*R*S, P, Q), or nullptr
/// @param dcol     dL/dcol (C*R*S, P*Q)
/// @param doffset  (2*OG*R*S, P, Q), overwritten
/// @param dmask    (OG*R*S, P, Q), overwritten; nullptr to skip (and for v1)
template <typename T>
void deformable_col2im_coord(const DeformGeometry& g, const T* x, const T* offset, const T* mask,
                             const T* dcol, T* doffset, T* dmask);

/// @brief Scalars the im2col kernels need in their workspace: two (C*R*S, P*Q) buffers.
std::size_t deform_conv2d_im2col_workspace_size(const DeformGeometry& g);

/// @brief Same result as deform_conv2d_forward_naive: per image, the deformable im2col, then
/// one GEMM per group, (K/G x Cg*R*S) weight times (Cg*R*S x P*Q) columns.
/// @param g          sizes and options
/// @param x          input (N, C, H, W)
/// @param offset     (N, 2*OG*R*S, P, Q), (dy, dx) pairs
/// @param mask       (N, OG*R*S, P, Q), or nullptr for v1
/// @param w          weight (K, C/G, R, S)
/// @param bias       bias (K), or nullptr
/// @param y          output (N, K, P, Q), overwritten
/// @param workspace  scratch, grown when too small and reused
template <typename T>
void deform_conv2d_forward_im2col(const DeformGeometry& g, const T* x, const T* offset,
                                  const T* mask, const T* w, const T* bias, T* y,
                                  std::vector<T>& workspace);

/// @brief Same result as deform_conv2d_backward_naive, with GEMMs: per image and group,
/// dw += dy * col^T and dcol = w^T * dy; then dx by deformable_col2im and the offset and mask
/// gradients by deformable_col2im_coord.
template <typename T>
void deform_conv2d_backward_im2col(const DeformGeometry& g, const T* x, const T* offset,
                                   const T* mask, const T* w, const T* dy, T* dx, T* doffset,
                                   T* dmask, T* dw, T* db, std::vector<T>& workspace);

/// @brief deform_conv2d_forward_naive or deform_conv2d_forward_im2col, as `algo` says
/// (the naive kernel does not use the workspace).
template <typename T>
void deform_conv2d_forward(DeformAlgo algo, const DeformGeometry& g, const T* x, const T* offset,
                           const T* mask, const T* w, const T* bias, T* y,
                           std::vector<T>& workspace);

/// @brief deform_conv2d_backward_naive or deform_conv2d_backward_im2col, as `algo` says.
template <typename T>
void deform_conv2d_backward(DeformAlgo algo, const DeformGeometry& g, const T* x, const T* offset,
                            const T* mask, const T* w, const T* dy, T* dx, T* doffset, T* dmask,
                            T* dw, T* db, std::vector<T>& workspace);

}  // namespace convbook
