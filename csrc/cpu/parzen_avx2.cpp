// AVX2+FMA Parzen tile steps: direct distances in 4x16 register blocks (two sample vectors against
// four broadcast test coordinates per step), and the epilogue 8 distances at a time with the vector
// exp of the GEMM epilogue. Compiled with -mavx2 -mfma; called only after CPUID confirms them.
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "avx2_math.h"
#include "parzen_tile.h"

namespace pyaae::cpu {
namespace {

template <int Rows>
void direct_rows(const float* x, int64_t dim, const float* samples_t, int64_t ldt, int64_t cols, float* tile,
                 int64_t ld) {
  for (int64_t c = 0; c < cols; c += 16) {
    __m256 acc0[Rows], acc1[Rows];
    for (int r = 0; r < Rows; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    for (int64_t j = 0; j < dim; ++j) {
      const __m256 s0 = _mm256_loadu_ps(samples_t + j * ldt + c), s1 = _mm256_loadu_ps(samples_t + j * ldt + c + 8);
      for (int r = 0; r < Rows; ++r) {
        const __m256 xr = _mm256_broadcast_ss(x + r * dim + j);
        const __m256 d0 = _mm256_sub_ps(s0, xr), d1 = _mm256_sub_ps(s1, xr);
        acc0[r] = _mm256_fmadd_ps(d0, d0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(d1, d1, acc1[r]);
      }
    }
    for (int r = 0; r < Rows; ++r) {
      _mm256_storeu_ps(tile + r * ld + c, acc0[r]);
      _mm256_storeu_ps(tile + r * ld + c + 8, acc1[r]);
    }
  }
}

void direct_avx2(const float* x, int64_t rows, int64_t dim, const float* samples_t, int64_t ldt, int64_t cols,
                 float* tile, int64_t ld) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) direct_rows<4>(x + r * dim, dim, samples_t, ldt, cols, tile + r * ld, ld);
  for (; r < rows; ++r) direct_rows<1>(x + r * dim, dim, samples_t, ldt, cols, tile + r * ld, ld);
}

inline float horizontal_min(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline double horizontal_sum(__m256 v) {
  const __m256d s = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, s);
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

// Bands per pass over the row: their accumulators stay in one small array.
constexpr int64_t kBandsPerPass = 16;

void consume_avx2(float* row, int64_t cols, const float* col_norms, float row_norm, const ParzenBands& bands,
                  float* dmin, double* sums) {
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const int64_t padded = (cols + 7) / 8 * 8;
  // Padding lanes hold +inf: they never lower the minimum and their terms are exp(-inf) = 0.
  for (int64_t c = cols; c < padded; ++c) row[c] = std::numeric_limits<float>::infinity();
  __m256 vmin = inf;
  if (col_norms != nullptr) {
    const __m256 xx = _mm256_set1_ps(row_norm), minus_two = _mm256_set1_ps(-2.0f);
    const int64_t full = cols / 8 * 8;
    for (int64_t c = 0; c < full; c += 8) {
      const __m256 d = _mm256_max_ps(
          _mm256_fmadd_ps(minus_two, _mm256_loadu_ps(row + c), _mm256_add_ps(xx, _mm256_loadu_ps(col_norms + c))),
          _mm256_setzero_ps());
      _mm256_storeu_ps(row + c, d);
      vmin = _mm256_min_ps(vmin, d);
    }
    for (int64_t c = full; c < cols; ++c) {
      row[c] = std::max(row_norm + col_norms[c] - 2.0f * row[c], 0.0f);
      vmin = _mm256_min_ps(vmin, _mm256_set1_ps(row[c]));
    }
  } else {
    for (int64_t c = 0; c < padded; c += 8) vmin = _mm256_min_ps(vmin, _mm256_loadu_ps(row + c));
  }
  parzen_lower_minimum(bands, horizontal_min(vmin), dmin, sums);
  const __m256 m = _mm256_set1_ps(*dmin);
  for (int64_t b0 = 0; b0 < bands.k; b0 += kBandsPerPass) {
    const int64_t nb = std::min(kBandsPerPass, bands.k - b0);
    __m256 acc[kBandsPerPass];
    for (int64_t b = 0; b < nb; ++b) acc[b] = _mm256_setzero_ps();
    for (int64_t c = 0; c < padded; c += 8) {
      const __m256 t = _mm256_sub_ps(_mm256_loadu_ps(row + c), m);
      for (int64_t b = 0; b < nb; ++b) {
        // Bands are ordered by decreasing skip: once no lane is within this one, none is in the next.
        if (_mm256_movemask_ps(_mm256_cmp_ps(t, _mm256_set1_ps(bands.skip[b0 + b]), _CMP_LE_OQ)) == 0) break;
        acc[b] = _mm256_add_ps(acc[b], avx2::exp_ps(_mm256_mul_ps(t, _mm256_set1_ps(bands.neg_a[b0 + b]))));
      }
    }
    for (int64_t b = 0; b < nb; ++b) sums[b0 + b] += horizontal_sum(acc[b]);
  }
}

}  // namespace

ParzenTileOps parzen_tile_ops_avx2() { return {&direct_avx2, &consume_avx2}; }

}  // namespace pyaae::cpu
