#pragma once
/// @file transpose.hpp
/// @brief A 16 x 16 float transpose in AVX-512 registers, for the packing routines that must
/// turn rows into columns: the GEMM's packing of A stored M x K and of B stored N x K
/// (gemm_packed.cpp), and the implicit im2col's packing of col^T (im2col.cpp).
///
/// Defines CONVBOOK_HAVE_TRANSPOSE_16X16 when the target has AVX-512F; elsewhere the callers
/// keep their scalar copies.
#if defined(__AVX512F__)
#include <immintrin.h>

#include <cstddef>

#define CONVBOOK_HAVE_TRANSPOSE_16X16 1

namespace convbook {

//! [transpose-16x16]
// Transposes a 16 x 16 block of floats held in 16 vectors: r[i], row i of the block, becomes
// column i. Four rounds of two-source shuffles (pairs of floats, pairs of doubles, then 128-bit
// lanes twice): 64 instructions for 256 values, where a copy one value at a time costs a load
// and a store each. xsimd 8 has no transpose, and its zip_lo/zip_hi stay within 128-bit lanes on
// AVX-512, so this one piece is written with the intrinsics xsimd itself is built on.
// (GCC 12 warns that the shuffles read an uninitialized value: its headers start them from
// _mm512_undefined_ps(), GCC bug 105593; the warning is switched off for this function.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
inline void transpose_16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  auto pd = [](__m512 v) { return _mm512_castps_pd(v); };
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t[4 * i]), pd(t[4 * i + 2])));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t[4 * i]), pd(t[4 * i + 2])));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t[4 * i + 1]), pd(t[4 * i + 3])));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t[4 * i + 1]), pd(t[4 * i + 3])));
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
      t[8 * i + j + 4] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0xdd);
    }
  }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}
#pragma GCC diagnostic pop
//! [transpose-16x16]

/// dst[i * ld + c] = runs[c][i] for c, i < 16: sixteen runs of 16 consecutive floats become
/// the 16 columns of a 16-row block whose rows are ld floats apart.
inline void transpose_runs_16x16(const float* const runs[16], float* dst, std::size_t ld) {
  __m512 r[16];
  for (int c = 0; c < 16; ++c) r[c] = _mm512_loadu_ps(runs[c]);
  transpose_16x16(r);
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ld, r[i]);
}

}  // namespace convbook
#endif
