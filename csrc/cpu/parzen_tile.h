// The two steps of the CPU Parzen kernel that each SIMD back end implements (parzen_avx2.cpp,
// parzen_generic.cpp): squared distances of a block of test points to a block of samples by direct
// differences, and the per-row epilogue that folds one row of a distance tile into that test point's
// running state (one minimum distance shared by every bandwidth, one sum per bandwidth).
#pragma once

#include <cmath>
#include <cstdint>

namespace pyaae::cpu {

// The bandwidths, largest sigma first, as the epilogue reads them.
struct ParzenBands {
  int64_t k = 0;
  const float* neg_a = nullptr;  // -1 / (2 sigma^2), increasing in magnitude
  // A term with d - dmin > skip[k] is below exp(-cutoff) and is left out of band k's sum, and then
  // of every later band's too (skip decreases with k); see parzen.cpp for the cutoff.
  const float* skip = nullptr;
};

// tile[r * ld + c] = |x_r - s_c|^2 for rows r < rows, columns c < cols, where x_r = x[r * dim ...]
// and s_c = samples_t[j * ldt + c] (the samples transposed, j < dim). ld, ldt and the storage behind
// samples_t are padded to a multiple of 16 columns, which may be written with garbage.
using ParzenDirectFn = void (*)(const float* x, int64_t rows, int64_t dim, const float* samples_t, int64_t ldt,
                                int64_t cols, float* tile, int64_t ld);

// Folds row[0, cols) into (dmin, sums[0, k)). With col_norms, row holds x.s products of centered
// points and first becomes d = max(row_norm + col_norms[c] - 2 row[c], 0). row is padded to a multiple
// of 8 floats, which the epilogue may overwrite. On return dmin is the least distance seen so far and
// sums[b] = sum over the columns seen of exp(-(d - dmin) / (2 sigma_b^2)) (terms past skip[b] left out).
using ParzenConsumeFn = void (*)(float* row, int64_t cols, const float* col_norms, float row_norm,
                                 const ParzenBands& bands, float* dmin, double* sums);

// A row's minimum moved from *dmin down to new_min: every sum was relative to the old minimum and is
// scaled by exp(-(old - new) / (2 sigma^2)) (0 while the old minimum is still +inf, the initial state).
inline void parzen_lower_minimum(const ParzenBands& bands, float new_min, float* dmin, double* sums) {
  if (!(new_min < *dmin)) return;
  const double shift = static_cast<double>(*dmin) - static_cast<double>(new_min);
  for (int64_t b = 0; b < bands.k; ++b) sums[b] *= std::exp(static_cast<double>(bands.neg_a[b]) * shift);
  *dmin = new_min;
}

struct ParzenTileOps {
  ParzenDirectFn direct;
  ParzenConsumeFn consume;
};

ParzenTileOps parzen_tile_ops_generic();
#if defined(PYAAE_HAVE_AVX2)
ParzenTileOps parzen_tile_ops_avx2();
#endif

}  // namespace pyaae::cpu
