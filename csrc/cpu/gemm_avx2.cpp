// AVX2+FMA GEMM back end: a 6x16 register-blocked micro-kernel (12 accumulators, 2 B loads and 6
// broadcasts per step: the FMA units, not the loads, are the limit) with the bias and activation
// applied in registers, and a B packer that transposes 8x8 blocks for the x W^T layout.
// Compiled with -mavx2 -mfma; called only after CPUID confirms them.
#define PYAAE_GEMM_NAMESPACE avx2_isa
#include "gemm_driver.h"

#include <immintrin.h>

#include "avx2_math.h"

namespace pyaae::cpu {
namespace avx2_isa {
namespace {

inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

struct Avx2Kernel {
  static constexpr int MR = 6;
  static constexpr int NR = 16;
  static constexpr int64_t MC = 144;
  static constexpr int64_t KC = 256;
  static constexpr int64_t NC = 4080;

  template <bool Accumulate, bool Last, Activation Act>
  static void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                    const float* bias, float negative_slope) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
      __m256 ai = _mm256_broadcast_ss(a + 0);
      c00 = _mm256_fmadd_ps(ai, b0, c00);
      c01 = _mm256_fmadd_ps(ai, b1, c01);
      ai = _mm256_broadcast_ss(a + 1);
      c10 = _mm256_fmadd_ps(ai, b0, c10);
      c11 = _mm256_fmadd_ps(ai, b1, c11);
      ai = _mm256_broadcast_ss(a + 2);
      c20 = _mm256_fmadd_ps(ai, b0, c20);
      c21 = _mm256_fmadd_ps(ai, b1, c21);
      ai = _mm256_broadcast_ss(a + 3);
      c30 = _mm256_fmadd_ps(ai, b0, c30);
      c31 = _mm256_fmadd_ps(ai, b1, c31);
      ai = _mm256_broadcast_ss(a + 4);
      c40 = _mm256_fmadd_ps(ai, b0, c40);
      c41 = _mm256_fmadd_ps(ai, b1, c41);
      ai = _mm256_broadcast_ss(a + 5);
      c50 = _mm256_fmadd_ps(ai, b0, c50);
      c51 = _mm256_fmadd_ps(ai, b1, c51);
    }
    const __m256 slope = _mm256_set1_ps(negative_slope);
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if constexpr (Last) {
      bias0 = _mm256_loadu_ps(bias);
      bias1 = _mm256_loadu_ps(bias + 8);
    }
    auto store_row = [&](float* row, __m256 v0, __m256 v1) {
      if constexpr (Accumulate) {
        v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
        v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row + 8));
      }
      if constexpr (Last) {
        v0 = avx2::activate_ps<Act>(_mm256_add_ps(v0, bias0), slope);
        v1 = avx2::activate_ps<Act>(_mm256_add_ps(v1, bias1), slope);
      }
      _mm256_storeu_ps(row, v0);
      _mm256_storeu_ps(row + 8, v1);
    };
    store_row(c, c00, c01);
    store_row(c + ldc, c10, c11);
    store_row(c + 2 * ldc, c20, c21);
    store_row(c + 3 * ldc, c30, c31);
    store_row(c + 4 * ldc, c40, c41);
    store_row(c + 5 * ldc, c50, c51);
  }

  // Vectorized panels of A for the two layouts the fused layer uses; others take the portable path.
  // Both store 8 floats per k step where the panel holds 6: the 2 extra are overwritten by the next
  // step, and the buffer has slack for the last one.
  template <Activation G, bool Sums>
  static void pack_a_panel(const GemmProblem& p, int64_t row0, int rows, int64_t p0, int64_t kc, float* out,
                           double* sums) {
    const int64_t rs = p.a_row_stride, cs = p.a_col_stride;
    const __m256 slope = _mm256_set1_ps(p.negative_slope);
    auto load = [&](int64_t off) {
      const __m256 v = _mm256_loadu_ps(p.a + off);
      if constexpr (G == Activation::Identity) return v;
      return _mm256_mul_ps(v, avx2::activation_grad_ps<G>(_mm256_loadu_ps(p.a_y + off), slope));
    };
    if (rows == MR && cs == 1 && !Sums) {
      // Rows contiguous along k (x, or G = grad_y * act'(y)): 8 k per step, transposed in registers.
      const int64_t base = row0 * rs + p0, full_k = kc / 8 * 8;
      for (int64_t kk = 0; kk < full_k; kk += 8) {
        __m256 r[8];
        for (int i = 0; i < MR; ++i) r[i] = load(base + i * rs + kk);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose8x8(r);
        for (int j = 0; j < 8; ++j) _mm256_storeu_ps(out + (kk + j) * MR, r[j]);
      }
      for (int64_t kk = full_k; kk < kc; ++kk) {
        for (int i = 0; i < MR; ++i) {
          const int64_t off = base + i * rs + kk;
          float v = p.a[off];
          if constexpr (G != Activation::Identity) v *= activation_grad_from_output<G>(p.a_y[off], p.negative_slope);
          out[kk * MR + i] = v;
        }
      }
      return;
    }
    if (rows == MR && rs == 1) {
      // The panel's rows contiguous (G^T for the weight gradient): 6 lanes per k step.
      const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
      __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
      const float* a = p.a + row0 + p0 * cs;
      const float* y = p.a_y != nullptr ? p.a_y + row0 + p0 * cs : nullptr;
      for (int64_t kk = 0; kk < kc; ++kk) {
        __m256 v = _mm256_maskload_ps(a + kk * cs, six);
        if constexpr (G != Activation::Identity) {
          v = _mm256_mul_ps(v, avx2::activation_grad_ps<G>(_mm256_maskload_ps(y + kk * cs, six), slope));
        }
        _mm256_storeu_ps(out + kk * MR, v);
        if constexpr (Sums) {
          lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
          hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
        }
      }
      if constexpr (Sums) {
        alignas(32) double lanes[8];
        _mm256_store_pd(lanes, lo);
        _mm256_store_pd(lanes + 4, hi);
        for (int i = 0; i < MR; ++i) sums[i] += lanes[i];
      }
      return;
    }
    pack_a_panel_portable<MR, G, Sums>(p, row0, rows, p0, kc, out, sums);
  }

  // Packs B into NR-wide panels. For B = W^T (rs == 1, columns of B are rows of W), 8x8 transposes
  // turn 16 row reads of W into the panel's k-major layout. Other layouts use the portable packer.
  static void pack_b(const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, float* out) {
    const int64_t full_cols = nc / NR * NR;
    if (cs == 1) {
      // Rows of B contiguous (W for grad_x, x for grad_weight): two vector copies per k.
      for (int64_t jr = 0; jr < full_cols; jr += NR, out += kc * NR) {
        const float* src = b + jr;
        for (int64_t kk = 0; kk < kc; ++kk) {
          _mm256_store_ps(out + kk * NR, _mm256_loadu_ps(src + kk * rs));
          _mm256_store_ps(out + kk * NR + 8, _mm256_loadu_ps(src + kk * rs + 8));
        }
      }
      if (full_cols < nc) pack_b_portable<NR>(b + full_cols, rs, cs, kc, nc - full_cols, out);
      return;
    }
    if (rs != 1) {
      pack_b_portable<NR>(b, rs, cs, kc, nc, out);
      return;
    }
    const int64_t full_k = kc / 8 * 8;
    for (int64_t jr = 0; jr < full_cols; jr += NR, out += kc * NR) {
      for (int half = 0; half < 2; ++half) {
        const float* src = b + (jr + half * 8) * cs;
        float* dst = out + half * 8;
        for (int64_t kk = 0; kk < full_k; kk += 8) {
          __m256 r[8];
          for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + j * cs + kk);
          transpose8x8(r);
          for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (kk + j) * NR, r[j]);
        }
        for (int64_t kk = full_k; kk < kc; ++kk) {
          for (int j = 0; j < 8; ++j) dst[kk * NR + j] = src[j * cs + kk];
        }
      }
    }
    if (full_cols < nc) pack_b_portable<NR>(b + full_cols * cs, rs, cs, kc, nc - full_cols, out);
  }
};

}  // namespace
}  // namespace avx2_isa

GemmTileFn gemm_tile_avx2() { return &avx2_isa::gemm_tile<avx2_isa::Avx2Kernel>; }

}  // namespace pyaae::cpu
