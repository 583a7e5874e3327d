#pragma once
/// @file tensor.hpp
/// @brief The tensor type: a 4-D xtensor in NCHW order.
///
/// Legend used across convbook: N batch, C in-channels, K out-channels, H x W input,
/// P x Q output, R x S kernel, G groups.
///
/// Every activation is 4-D: a linear layer sees (N, C, 1, 1). Hot kernels take raw pointers
/// (`x.data()`) and sizes, never xtensor views in inner loops.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace convbook {

/// @brief The scalar type of the whole framework.
///
/// `float` in the normal build. The test build `convbook_f64` compiles the same sources with
/// CONVBOOK_DOUBLE defined so every layer and block can be gradient-checked in double.
#ifdef CONVBOOK_DOUBLE
using Scalar = double;
#else
using Scalar = float;
#endif

/// @brief A 4-D NCHW tensor of Scalar.
using Tensor = xt::xtensor<Scalar, 4>;
/// @brief The shape of a Tensor: (N, C, H, W).
using Shape = std::array<std::size_t, 4>;

/// @brief A tensor of the given shape filled with zeros.
Tensor zeros(const Shape& shape);
/// @brief A tensor of the given shape whose values are not set: for an output that the next
/// call overwrites everywhere (the convolution kernels' y and dx, tested by starting them as
/// NaN), where zeros() would be one more pass over memory for nothing.
Tensor empty(const Shape& shape);
/// @brief The shape of a tensor as a Shape.
Shape shape_of(const Tensor& t);
/// @brief Number of elements of a shape.
std::size_t numel(const Shape& shape);
/// @brief Elementwise loops over fewer values than this stay on one thread: waking the
/// others would cost more than they save.
inline constexpr std::size_t kParallelValues = std::size_t(1) << 15;

/// @brief a += b, elementwise, spread over the OpenMP threads (xtensor's += runs on one).
///
/// The sums of residual blocks and of gradients that meet at a fork. Shapes must be equal
/// (checked by the caller, who can name the operands in its message).
void add_into(Tensor& a, const Tensor& b);
/// @brief to = from, reusing to's memory when the shapes agree, copied over the OpenMP threads.
///
/// What a layer does to keep its input for backward: the copy of an 8 MB activation at every
/// step, on all cores and into the buffer of the last step rather than a fresh one.
void copy_into(Tensor& to, const Tensor& from);
/// @brief Keeps freed tensor memory in the process for the next tensor (glibc's malloc).
///
/// By default glibc hands blocks over its mmap threshold back to the kernel on free and trims
/// the top of the heap; the next batch's 8 MB activation then faults in every 4 KB page again
/// and the kernel zeroes each one, on one thread: 20-25% of a ResNet-20 step at 2 threads. This
/// raises the mmap threshold to its maximum (32 MB) and stops the trimming, so a training loop
/// reuses the same pages every step, as PyTorch's caching allocators do. The process keeps its
/// peak memory until it exits. `convbook` calls it first thing; a no-op without glibc.
void keep_freed_memory();
/// @brief "(N, C, H, W)" for messages and tables.
std::string to_string(const Shape& shape);
/// @brief "[d0, d1, ...]": a shape of any rank (a PyTorch shape) for messages.
std::string to_string(const std::vector<std::size_t>& shape);

}  // namespace convbook
