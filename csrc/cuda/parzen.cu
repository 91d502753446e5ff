// CUDA Parzen log-likelihood. A block owns 64 test points and walks the samples 64 at a time: its 256
// threads compute the 64 x 64 squared distances (a 4 x 4 register tile each, both point sets staged
// through shared memory 32 coordinates at a time), write them to shared memory, and then 4 threads per
// test point fold 16 distances each into their running state: one minimum shared by every bandwidth
// and one sum per bandwidth relative to it (pyaae/parzen.h; the same state as the CPU kernel). At the
// end the 4 partial states of a point merge through warp shuffles. N x M distances never exist.
//
// Distances by direct differences (a subtraction and an FMA per coordinate): exact up to the result's
// own rounding, with no centering workspace, where the GEMM form would need one and tensor cores to pay.
// At most kMaxBands bandwidths per launch (their sums live in shared memory); more take more launches.
#include <algorithm>
#include <cmath>

#include "pyaae/cuda_launch.h"
#include "pyaae/parzen.h"

namespace pyaae {
namespace {

constexpr int kThreads = 256;
constexpr int kRows = 64;   // test points per block
constexpr int kCols = 64;   // samples per step
constexpr int kDepth = 32;  // coordinates staged per step
constexpr int kMaxBands = 16;
constexpr int kThreadsPerRow = kThreads / kRows;      // 4, consecutive lanes of one warp
constexpr int kColsPerThread = kCols / kThreadsPerRow;  // 16
// The staging tiles (two [64][33]) and, once the distances are done, the distance tile ([64][65]).
constexpr int kStageFloats = 2 * kRows * (kDepth + 1) > kRows * (kCols + 1) ? 2 * kRows * (kDepth + 1) : kRows * (kCols + 1);

__global__ void __launch_bounds__(kThreads) parzen_kernel(ParzenArgs a, int band0, int bands) {
  __shared__ float stage[kStageFloats];
  __shared__ float band_sums[kMaxBands * kThreads];  // [band][thread]: each thread its own column
  __shared__ float band_neg_a[kMaxBands];
  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;
  const int own_row = tid / kThreadsPerRow, quarter = tid % kThreadsPerRow;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRows;
  float* xs = stage;
  float* ss = stage + kRows * (kDepth + 1);
  float* dist = stage;
  if (tid < bands) {
    const float sigma = a.sigmas[band0 + tid];
    band_neg_a[tid] = -0.5f / (sigma * sigma);
  }
  for (int b = 0; b < bands; ++b) band_sums[b * kThreads + tid] = 0.0f;
  float dmin = INFINITY;
  for (int64_t col0 = 0; col0 < a.m; col0 += kCols) {
    float acc[4][4] = {};
    for (int64_t k0 = 0; k0 < a.dim; k0 += kDepth) {
      __syncthreads();  // the previous step is done with the staging tiles (and the distance tile)
      for (int e = tid; e < kRows * kDepth; e += kThreads) {
        const int r = e / kDepth, c = e % kDepth;
        const int64_t k = k0 + c, xr = row0 + r, sr = col0 + r;
        xs[r * (kDepth + 1) + c] = xr < a.n && k < a.dim ? a.x[xr * a.dim + k] : 0.0f;
        ss[r * (kDepth + 1) + c] = sr < a.m && k < a.dim ? a.samples[sr * a.dim + k] : 0.0f;
      }
      __syncthreads();
#pragma unroll 8
      for (int c = 0; c < kDepth; ++c) {
        float xv[4], sv[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) xv[i] = xs[(ty + 16 * i) * (kDepth + 1) + c];
#pragma unroll
        for (int j = 0; j < 4; ++j) sv[j] = ss[(tx + 16 * j) * (kDepth + 1) + c];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
#pragma unroll
          for (int j = 0; j < 4; ++j) {
            const float diff = xv[i] - sv[j];
            acc[i][j] = fmaf(diff, diff, acc[i][j]);
          }
        }
      }
    }
    __syncthreads();  // every thread is done reading the staging tiles that the distance tile overlays
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int j = 0; j < 4; ++j) dist[(ty + 16 * i) * (kCols + 1) + tx + 16 * j] = acc[i][j];
    }
    __syncthreads();
    const int64_t left = a.m - col0 - quarter * kColsPerThread;
    const int valid = left < 0 ? 0 : left < kColsPerThread ? static_cast<int>(left) : kColsPerThread;
    const float* d = dist + own_row * (kCols + 1) + quarter * kColsPerThread;
    float tile_min = INFINITY;
    for (int c = 0; c < valid; ++c) tile_min = fminf(tile_min, d[c]);
    if (tile_min < dmin) {  // sums relative to the old minimum (0 while it is +inf) move to the new one
      for (int b = 0; b < bands; ++b) band_sums[b * kThreads + tid] *= expf(band_neg_a[b] * (dmin - tile_min));
      dmin = tile_min;
    }
    for (int b = 0; b < bands; ++b) {
      float sum = 0.0f;
      for (int c = 0; c < valid; ++c) sum += expf(band_neg_a[b] * (d[c] - dmin));
      band_sums[b * kThreads + tid] += sum;
    }
  }
  float row_min = dmin;
  row_min = fminf(row_min, __shfl_xor_sync(0xffffffffu, row_min, 1));
  row_min = fminf(row_min, __shfl_xor_sync(0xffffffffu, row_min, 2));
  const int64_t row = row0 + own_row;
  for (int b = 0; b < bands; ++b) {
    // A thread that saw no sample (M < 64) has dmin = +inf and contributes nothing.
    float sum = dmin < INFINITY ? band_sums[b * kThreads + tid] * expf(band_neg_a[b] * (dmin - row_min)) : 0.0f;
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    if (quarter == 0 && row < a.n) {
      const double sigma = a.sigmas[band0 + b];
      a.out[row * a.k + band0 + b] = static_cast<float>(-static_cast<double>(row_min) / (2.0 * sigma * sigma) +
                                                        log(static_cast<double>(sum)) +
                                                        parzen_log_normalizer(sigma, a.m, a.dim));
    }
  }
}

}  // namespace

void parzen_cuda(const ParzenArgs& a) {
  if (a.n == 0 || a.k == 0) return;
  const dim3 grid(static_cast<unsigned>((a.n + kRows - 1) / kRows));
  for (int64_t b0 = 0; b0 < a.k; b0 += kMaxBands) {
    const int bands = static_cast<int>(std::min<int64_t>(kMaxBands, a.k - b0));
    PYAAE_LAUNCH(&parzen_kernel, grid, dim3(kThreads), 0, static_cast<cudaStream_t>(a.stream), a,
                 static_cast<int>(b0), bands);
    check_launch("parzen kernel");
  }
}

}  // namespace pyaae
