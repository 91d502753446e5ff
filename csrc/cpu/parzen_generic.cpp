// Portable Parzen tile steps: plain C++ for any processor (and for PYAAE_SIMD=generic).
#include <algorithm>
#include <cmath>
#include <limits>

#include "parzen_tile.h"

namespace pyaae::cpu {
namespace {

void direct_generic(const float* x, int64_t rows, int64_t dim, const float* samples_t, int64_t ldt, int64_t cols,
                    float* tile, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    float* out = tile + r * ld;
    std::fill(out, out + cols, 0.0f);
    for (int64_t j = 0; j < dim; ++j) {
      const float xj = x[r * dim + j];
      const float* s = samples_t + j * ldt;
      for (int64_t c = 0; c < cols; ++c) {
        const float diff = xj - s[c];
        out[c] += diff * diff;
      }
    }
  }
}

void consume_generic(float* row, int64_t cols, const float* col_norms, float row_norm, const ParzenBands& bands,
                     float* dmin, double* sums) {
  float tile_min = std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < cols; ++c) {
    if (col_norms != nullptr) row[c] = std::max(row_norm + col_norms[c] - 2.0f * row[c], 0.0f);
    tile_min = std::min(tile_min, row[c]);
  }
  parzen_lower_minimum(bands, tile_min, dmin, sums);
  const float m = *dmin;
  for (int64_t b = 0; b < bands.k; ++b) {
    float acc = 0.0f;  // one tile row of at most a few hundred terms, each <= 1
    for (int64_t c = 0; c < cols; ++c) {
      const float t = row[c] - m;
      if (t <= bands.skip[b]) acc += std::exp(bands.neg_a[b] * t);
    }
    sums[b] += acc;
  }
}

}  // namespace

ParzenTileOps parzen_tile_ops_generic() { return {&direct_generic, &consume_generic}; }

}  // namespace pyaae::cpu
