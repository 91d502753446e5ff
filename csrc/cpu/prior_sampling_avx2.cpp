// AVX2 prior sampling, 8 samples at a time: Philox4x32-10 on 8 counters (two 32x32->64-bit
// multiplies per round, even and odd lanes), Box-Muller with vectorized log and sin/cos (Cephes
// polynomials). The random words are the scalar kernel's, bit for bit; the floats differ from it
// by a few ulps (the polynomials are not libm's). Compiled with -mavx2 -mfma; called only after
// CPUID confirms them.
#include <immintrin.h>

#include <cmath>
#include <algorithm>
#include <cstring>

#include "avx2_math.h"
#include "philox_avx2.h"
#include "prior_sampling_simd.h"

namespace pyaae::cpu {
namespace {

// Block `block` of samples first .. first + 7 (counters lo(i), hi(i), block, offset). first is a
// multiple of 8, so the eight low words never wrap into the high word.
inline Words8 philox8(uint64_t seed, uint32_t offset, uint64_t first, uint32_t block) {
  const __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(first))),
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return pyaae::cpu::philox8(c0, _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(first >> 32))),
                 _mm256_set1_epi32(static_cast<int>(block)), _mm256_set1_epi32(static_cast<int>(offset)),
                 static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

inline __m256 uniform8(__m256i word) {
  return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(word, 8)), _mm256_set1_ps(0x1.0p-24f));
}

inline __m256 uniform8_nonzero(__m256i word) {
  const __m256i v = _mm256_add_epi32(_mm256_srli_epi32(word, 8), _mm256_set1_epi32(1));
  return _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(0x1.0p-24f));
}

// Natural log for x in (0, 1] (Cephes logf: mantissa in [sqrt(1/2), sqrt(2)), degree-8 polynomial).
inline __m256 log8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_castps_si256(x), 23), _mm256_set1_epi32(127));
  __m256 m = _mm256_or_ps(_mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x007fffff))), one);
  __m256 fe = _mm256_cvtepi32_ps(e);
  const __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356237f), _CMP_GE_OQ);
  m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), small);
  fe = _mm256_add_ps(fe, _mm256_and_ps(small, one));
  const __m256 f = _mm256_sub_ps(m, one);
  __m256 y = _mm256_set1_ps(7.0376836292E-2f);
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.1514610310E-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.1676998740E-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.2420140846E-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.4249322787E-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.6668057665E-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(2.0000714765E-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-2.4999993993E-1f));
  y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(3.3333331174E-1f));
  const __m256 f2 = _mm256_mul_ps(f, f);
  y = _mm256_mul_ps(_mm256_mul_ps(y, f), f2);
  y = _mm256_fnmadd_ps(f2, _mm256_set1_ps(0.5f), y);
  y = _mm256_fmadd_ps(fe, _mm256_set1_ps(-2.12194440e-4f), y);
  return _mm256_fmadd_ps(fe, _mm256_set1_ps(0.693359375f), _mm256_add_ps(f, y));
}

// sin and cos of t = 2 pi u for u in [0, 1): reduce to [-pi/4, pi/4] by quadrant (Cephes sinf/cosf).
inline void sincos_turns8(__m256 u, __m256* s, __m256* c) {
  // Quadrant q = round(4u) (0..4), remainder r = (4u - q) * pi/2 in [-pi/4, pi/4].
  const __m256 four_u = _mm256_mul_ps(u, _mm256_set1_ps(4.0f));
  const __m256 q = _mm256_round_ps(four_u, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_mul_ps(_mm256_sub_ps(four_u, q), _mm256_set1_ps(1.57079632679489661923f));
  const __m256 z = _mm256_mul_ps(r, r);
  __m256 sp = _mm256_set1_ps(-1.9515295891E-4f);
  sp = _mm256_fmadd_ps(sp, z, _mm256_set1_ps(8.3321608736E-3f));
  sp = _mm256_fmadd_ps(sp, z, _mm256_set1_ps(-1.6666654611E-1f));
  sp = _mm256_fmadd_ps(_mm256_mul_ps(sp, z), r, r);
  __m256 cp = _mm256_set1_ps(2.443315711809948E-5f);
  cp = _mm256_fmadd_ps(cp, z, _mm256_set1_ps(-1.388731625493765E-3f));
  cp = _mm256_fmadd_ps(cp, z, _mm256_set1_ps(4.166664568298827E-2f));
  cp = _mm256_fmadd_ps(_mm256_mul_ps(cp, z), z, _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), _mm256_set1_ps(1.0f)));
  // Quadrant q: (sin, cos) of r + q pi/2 = (sp, cp), (cp, -sp), (-sp, -cp), (-cp, sp).
  const __m256i qi = _mm256_cvtps_epi32(q);
  const __m256 swap = _mm256_castsi256_ps(_mm256_slli_epi32(qi, 31));               // q odd
  const __m256 sin_neg = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_srli_epi32(qi, 1), 31));  // q in {2,3}
  const __m256 cos_neg = _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_srli_epi32(_mm256_add_epi32(qi, _mm256_set1_epi32(1)), 1), 31));  // q in {1,2}
  *s = _mm256_xor_ps(_mm256_blendv_ps(sp, cp, swap), sin_neg);
  *c = _mm256_xor_ps(_mm256_blendv_ps(cp, sp, swap), cos_neg);
}

inline void box_muller8(__m256i a, __m256i b, __m256* z0, __m256* z1) {
  const __m256 radius = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), log8(uniform8_nonzero(a))));
  __m256 s, c;
  sincos_turns8(uniform8(b), &s, &c);
  *z0 = _mm256_mul_ps(radius, c);
  *z1 = _mm256_mul_ps(radius, s);
}

// 2*count normals of samples first..first+7, from blocks first_block.. (the scalar layout).
inline void normals8(const PriorSampling& p, uint64_t first, uint32_t first_block, int64_t count, __m256* z) {
  for (int64_t d = 0; d < count; d += 4) {
    const Words8 r = philox8(p.seed, p.offset, first, first_block + static_cast<uint32_t>(d / 4));
    __m256 v[4];
    box_muller8(r.w[0], r.w[1], &v[0], &v[1]);
    box_muller8(r.w[2], r.w[3], &v[2], &v[3]);
    for (int t = 0; t < 4 && d + t < count; ++t) z[d + t] = v[t];
  }
}

// The component of each of the `valid` lanes: its label, or the first k with u < cdf[k].
inline __m256i components8(const PriorSampling& p, int64_t first, int valid, __m256i word) {
  const __m256 u = uniform8(word);
  __m256i k = _mm256_setzero_si256();
  for (int64_t j = 0; j + 1 < p.components; ++j) {
    const __m256 past = _mm256_cmp_ps(u, _mm256_set1_ps(p.cdf[j]), _CMP_GE_OQ);
    k = _mm256_sub_epi32(k, _mm256_castps_si256(past));  // +1 where u >= cdf[j]
  }
  if (p.labels != nullptr) {
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), k);
    for (int s = 0; s < valid; ++s) {
      if (p.labels[first + s] >= 0) lanes[s] = static_cast<int32_t>(p.labels[first + s]);
    }
    k = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
  }
  return k;
}

// Writes column d of the `valid` rows from first.
inline void store_column(const PriorSampling& p, int64_t first, int valid, int64_t d, __m256 v) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  for (int s = 0; s < valid; ++s) p.out[(first + s) * p.dim + d] = lanes[s];
}

inline void store_index(const PriorSampling& p, int64_t first, int valid, __m256i k) {
  if (p.index == nullptr) return;
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), k);
  for (int s = 0; s < valid; ++s) p.index[first + s] = lanes[s];
}

// Samples first .. first + valid - 1 (first a multiple of 8, valid <= 8). A partial group is computed
// in full and stored in part, so every sample takes the same arithmetic whatever n and the split.
void sample8(const PriorSampling& p, int64_t first, int valid) {
  const uint64_t f = static_cast<uint64_t>(first);
  switch (p.kind) {
    case PriorKind::Gaussian: {
      for (int64_t d = 0; d < p.dim; d += 4) {
        __m256 z[4];
        normals8(p, f, static_cast<uint32_t>(d / 4), 4, z);
        for (int t = 0; t < 4 && d + t < p.dim; ++t) {
          store_column(p, first, valid, d + t, _mm256_fmadd_ps(_mm256_set1_ps(p.scale[d + t]), z[t], _mm256_set1_ps(p.loc[d + t])));
        }
      }
      break;
    }
    case PriorKind::Uniform: {
      for (int64_t d = 0; d < p.dim; d += 4) {
        const Words8 r = philox8(p.seed, p.offset, f, static_cast<uint32_t>(d / 4));
        for (int t = 0; t < 4 && d + t < p.dim; ++t) {
          const __m256 low = _mm256_set1_ps(p.loc[d + t]), high = _mm256_set1_ps(p.scale[d + t]);
          const __m256 v = _mm256_add_ps(low, _mm256_mul_ps(_mm256_sub_ps(high, low), uniform8(r.w[t])));
          // Rounding must not reach high: [low, high), as the scalar kernel clamps.
          const __m256 below_high = _mm256_set1_ps(std::nextafter(p.scale[d + t], p.loc[d + t]));
          store_column(p, first, valid, d + t, _mm256_blendv_ps(below_high, v, _mm256_cmp_ps(v, high, _CMP_LT_OQ)));
        }
      }
      break;
    }
    case PriorKind::Mixture: {
      const Words8 r = philox8(p.seed, p.offset, f, 0);
      const __m256i k = components8(p, first, valid, r.w[0]);
      __m256 z[kMaxMixtureDim];
      normals8(p, f, 1, p.dim, z);
      const __m256i mean_base = _mm256_mullo_epi32(k, _mm256_set1_epi32(static_cast<int>(p.dim)));
      const __m256i chol_base = _mm256_mullo_epi32(k, _mm256_set1_epi32(static_cast<int>(p.dim * p.dim)));
      for (int64_t row = 0; row < p.dim; ++row) {
        __m256 v = _mm256_i32gather_ps(p.loc + row, mean_base, 4);
        for (int64_t col = 0; col <= row; ++col) {
          v = _mm256_fmadd_ps(_mm256_i32gather_ps(p.scale + row * p.dim + col, chol_base, 4), z[col], v);
        }
        store_column(p, first, valid, row, v);
      }
      store_index(p, first, valid, k);
      break;
    }
    case PriorKind::SwissRoll: {
      const Words8 r = philox8(p.seed, p.offset, f, 0);
      const __m256i seg = components8(p, first, valid, r.w[0]);
      const __m256 u = _mm256_mul_ps(_mm256_add_ps(_mm256_cvtepi32_ps(seg), uniform8(r.w[1])),
                                     _mm256_set1_ps(1.0f / static_cast<float>(p.components)));
      const __m256 root = _mm256_sqrt_ps(u);
      __m256 s, c;
      sincos_turns8(_mm256_mul_ps(root, _mm256_set1_ps(2.0f)), &s, &c);  // angle 4 pi sqrt(u) = 2 turns * sqrt(u)
      __m256 x = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(3.0f), root), c);
      __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(3.0f), root), s);
      if (p.noise_std > 0.0f) {
        __m256 n0, n1;
        box_muller8(r.w[2], r.w[3], &n0, &n1);
        x = _mm256_fmadd_ps(_mm256_set1_ps(p.noise_std), n0, x);
        y = _mm256_fmadd_ps(_mm256_set1_ps(p.noise_std), n1, y);
      }
      store_column(p, first, valid, 0, x);
      store_column(p, first, valid, 1, y);
      store_index(p, first, valid, seg);
      break;
    }
    case PriorKind::Categorical:
      break;  // not vectorized: sample_prior_groups_avx2 leaves it to the portable path
  }
}

}  // namespace

bool sample_prior_range_avx2(const PriorSampling& p, int64_t begin, int64_t end) {
  if (p.kind == PriorKind::Categorical) return false;  // no floating-point transform to vectorize
  for (int64_t i = begin; i < end; i += 8) sample8(p, i, static_cast<int>(std::min<int64_t>(8, end - i)));
  return true;
}

}  // namespace pyaae::cpu
