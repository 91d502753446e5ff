// CPU Parzen log-likelihood: test points split over threads by blocks of rows; each thread walks the
// samples a column block at a time, fills one distance tile (rows x columns, in cache, never N x M)
// and folds it into each test point's running state right away.
//
// Distances. Small dim: direct differences (exact up to rounding of the result itself). Large dim:
// the GEMM form |x|^2 + |s|^2 - 2 x.s on the foundation's blocked GEMM (its packing and micro-kernels),
// clamped at 0, on *centered* data: both sets minus the samples' mean (rounded to float). That is exact
// math (distances do not change) and removes the cancellation the GEMM form suffers when the data sit
// far from the origin (pixels offset by 1e3 give |x|^2 ~ 1e9, whose float32 rounding, ~60, swamps every
// distance); after centering the norms are of the data's spread, and the error of d is about
// 1e-7 x (|x - mu|^2 + |s - mu|^2) instead of 1e-7 x (|x|^2 + |s|^2).
//
// Bandwidths. One minimum distance per test point is shared by every bandwidth, so each sum is
// sum exp(-(d - dmin) / (2 sigma^2)) <= M with a term equal to 1: no overflow, no underflow of the
// nearest term, and the K sums cost K exps per distance, not K distance computations. Terms whose
// exponent is below -(log M + 20) are left out (they add less than e^-20 of the sum in all), so small
// bandwidths, for which nearly every term is negligible, cost almost nothing; bands are visited
// largest sigma first, and a vector of 8 distances stops at the first band none of it reaches.
#include "pyaae/parzen.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "aligned_buffer.h"
#include "gemm.h"
#include "parallel.h"
#include "parzen_tile.h"
#include "pyaae/cpu_features.h"

namespace pyaae {
namespace {

// Direct differences up to this dimension, the GEMM form above. Measured on a 2-core Zen 3, N = M =
// 4096, one sigma, uniform data: direct 23 ms at dim 8, 32 ms at 24, 43 ms at 32; GEMM form 32 ms at
// 33, 40 ms at 48. Latent codes (dim 2-20) keep the direct path, which also has no cancellation.
constexpr int64_t kDirectMaxDim = 24;
// Tile shape: 288 rows (two of the AVX2 GEMM's 144-row blocks) x 256 columns = 295 KB, inside a
// 512 KB L2 while the GEMM accumulates into it over the depth blocks. The direct path's tile is
// smaller: its cost is the epilogue, and small row blocks balance threads on small problems.
constexpr int64_t kGemmRows = 288;
constexpr int64_t kDirectRows = 48;
constexpr int64_t kCols = 256;
// The exponent below which a term is left out is -(log M + kSkipMargin): at most M such terms, each
// below e^-(log M + 20), change the sum (which holds a term equal to 1) by less than e^-20 = 2e-9.
constexpr double kSkipMargin = 20.0;
// Each thread gets at least this much work (distance flops), as in the fused layers.
constexpr double kMinFlopsPerThread = 0.25e6;

cpu::ParzenTileOps current_ops() {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::parzen_tile_ops_avx2();
#endif
  return cpu::parzen_tile_ops_generic();
}

cpu::GemmTileFn current_gemm() {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::gemm_tile_avx2();
#endif
  return cpu::gemm_tile_generic();
}

// Inputs prepared once per call, read by every thread: for the GEMM form the centered points and
// their squared norms, for direct differences the samples transposed (16-column padded).
struct Prepared {
  const float* x = nullptr;
  const float* samples = nullptr;
  const float* x_norms = nullptr;
  const float* sample_norms = nullptr;
  const float* samples_t = nullptr;
  int64_t ldt = 0;
};

// Buffers of the calling thread, kept between calls so that repeated evaluations allocate nothing.
struct Workspace {
  cpu::AlignedBuffer x, samples, x_norms, sample_norms, samples_t;
};

void center(const float* in, int64_t rows, int64_t dim, const float* mean, float* out, float* norms) {
  for (int64_t i = 0; i < rows; ++i) {
    double norm = 0.0;
    for (int64_t j = 0; j < dim; ++j) {
      const float v = in[i * dim + j] - mean[j];
      out[i * dim + j] = v;
      norm += static_cast<double>(v) * v;
    }
    norms[i] = static_cast<float>(norm);
  }
}

Prepared prepare(const ParzenArgs& a, bool gemm_form, Workspace& w) {
  Prepared p;
  if (!gemm_form) {
    p.ldt = (a.m + 15) / 16 * 16;
    float* t = w.samples_t.reserve(static_cast<size_t>(std::max<int64_t>(1, a.dim * p.ldt)));
    for (int64_t j = 0; j < a.dim; ++j) {
      for (int64_t i = 0; i < a.m; ++i) t[j * p.ldt + i] = a.samples[i * a.dim + j];
      std::fill(t + j * p.ldt + a.m, t + (j + 1) * p.ldt, 0.0f);
    }
    p.x = a.x;
    p.samples_t = t;
    return p;
  }
  std::vector<double> sum(static_cast<size_t>(a.dim), 0.0);
  for (int64_t i = 0; i < a.m; ++i) {
    for (int64_t j = 0; j < a.dim; ++j) sum[j] += a.samples[i * a.dim + j];
  }
  std::vector<float> mean(static_cast<size_t>(a.dim));
  for (int64_t j = 0; j < a.dim; ++j) mean[j] = static_cast<float>(sum[j] / static_cast<double>(a.m));
  float* x = w.x.reserve(static_cast<size_t>(a.n * a.dim));
  float* s = w.samples.reserve(static_cast<size_t>(a.m * a.dim));
  // Column norms are read 8 at a time up to the tile's padded width.
  float* xn = w.x_norms.reserve(static_cast<size_t>(a.n));
  float* sn = w.sample_norms.reserve(static_cast<size_t>(a.m + 8));
  center(a.x, a.n, a.dim, mean.data(), x, xn);
  center(a.samples, a.m, a.dim, mean.data(), s, sn);
  p.x = x;
  p.samples = s;
  p.x_norms = xn;
  p.sample_norms = sn;
  return p;
}

struct Bands {
  std::vector<int64_t> order;  // bands[b] is the caller's sigma order[b]
  std::vector<float> neg_a, skip;
  std::vector<double> a;
  cpu::ParzenBands view() const { return {static_cast<int64_t>(neg_a.size()), neg_a.data(), skip.data()}; }
};

Bands sort_bands(const ParzenArgs& args) {
  Bands b;
  b.order.resize(static_cast<size_t>(args.k));
  std::iota(b.order.begin(), b.order.end(), 0);
  std::stable_sort(b.order.begin(), b.order.end(), [&](int64_t i, int64_t j) { return args.sigmas[i] > args.sigmas[j]; });
  const double cutoff = std::log(static_cast<double>(args.m)) + kSkipMargin;
  for (int64_t i : b.order) {
    const double sigma = args.sigmas[i];
    const double a = 1.0 / (2.0 * sigma * sigma);
    b.a.push_back(a);
    b.neg_a.push_back(static_cast<float>(-a));
    b.skip.push_back(static_cast<float>(std::min(cutoff / a, 3.0e38)));
  }
  return b;
}

// Test points [r0, r1): every column block, then the log-likelihoods.
void run_rows(const ParzenArgs& a, const Prepared& p, const Bands& bands, bool gemm_form, int64_t r0, int64_t r1) {
  const cpu::ParzenTileOps ops = current_ops();
  const cpu::GemmTileFn gemm = current_gemm();
  const cpu::ParzenBands view = bands.view();
  thread_local cpu::AlignedBuffer tile_buffer;
  thread_local std::vector<double> sums;
  thread_local std::vector<float> dmin;
  const int64_t block_rows = gemm_form ? kGemmRows : kDirectRows;
  float* tile = tile_buffer.reserve(static_cast<size_t>(block_rows * kCols));
  for (int64_t rb = r0; rb < r1; rb += block_rows) {
    const int64_t rows = std::min(block_rows, r1 - rb);
    sums.assign(static_cast<size_t>(rows * a.k), 0.0);
    dmin.assign(static_cast<size_t>(rows), std::numeric_limits<float>::infinity());
    for (int64_t cb = 0; cb < a.m; cb += kCols) {
      const int64_t cols = std::min(kCols, a.m - cb);
      if (gemm_form) {
        cpu::GemmProblem g;
        g.m = rows;
        g.n = cols;
        g.k = a.dim;
        g.a = p.x + rb * a.dim;
        g.a_row_stride = a.dim;
        g.a_col_stride = 1;
        g.b = p.samples + cb * a.dim;  // B = S^T: the fused layer's W^T layout, which the packers transpose
        g.b_row_stride = 1;
        g.b_col_stride = a.dim;
        g.c = tile;
        g.ldc = kCols;
        gemm(g, 0, rows, 0, cols);
      } else {
        ops.direct(p.x + rb * a.dim, rows, a.dim, p.samples_t + cb, p.ldt, cols, tile, kCols);
      }
      for (int64_t r = 0; r < rows; ++r) {
        ops.consume(tile + r * kCols, cols, gemm_form ? p.sample_norms + cb : nullptr,
                    gemm_form ? p.x_norms[rb + r] : 0.0f, view, &dmin[r], &sums[r * a.k]);
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      float* out = a.out + (rb + r) * a.k;
      for (int64_t b = 0; b < a.k; ++b) {
        const int64_t i = bands.order[b];
        out[i] = static_cast<float>(-static_cast<double>(dmin[r]) * bands.a[b] + std::log(sums[r * a.k + b]) +
                                    parzen_log_normalizer(a.sigmas[i], a.m, a.dim));
      }
    }
  }
}

}  // namespace

void parzen_cpu(const ParzenArgs& a) {
  if (a.n == 0 || a.k == 0) return;
  const bool gemm_form = a.dim > kDirectMaxDim;
  thread_local Workspace workspace;
  const Prepared p = prepare(a, gemm_form, workspace);
  const Bands bands = sort_bands(a);
  const int64_t block_rows = gemm_form ? kGemmRows : kDirectRows;
  const int64_t blocks = (a.n + block_rows - 1) / block_rows;
  const double flops = 2.0 * static_cast<double>(a.n) * static_cast<double>(a.m) * static_cast<double>(std::max<int64_t>(1, a.dim));
  int64_t threads = std::min<int64_t>(a.num_threads, static_cast<int64_t>(flops / kMinFlopsPerThread));
  threads = std::max<int64_t>(1, std::min(threads, blocks));
  cpu::parallel_for(static_cast<int>(threads), [&](int t) {
    const int64_t begin = std::min(a.n, blocks * t / threads * block_rows);
    const int64_t end = std::min(a.n, blocks * (t + 1) / threads * block_rows);
    if (begin < end) run_rows(a, p, bands, gemm_form, begin, end);
  });
}

}  // namespace pyaae
