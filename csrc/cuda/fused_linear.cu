// CUDA fused linear layer: a shared-memory tiled GEMM (64x64 block tile, 16-deep k slices) over the
// GemmProblem of each pass (pyaae/gemm_problem.h), in float32 FMAs (4x4 outputs per thread) or, when
// allow_tf32 is set, on TF32 tensor cores (WMMA m16n16k8, a 32x32 sub-tile per warp). The activation
// gradient is applied as A tiles are loaded, the bias and activation before the store, and the bias
// gradient is summed by the blocks of the first column tile from the A tiles they already hold (in
// full float32, before any TF32 rounding).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "pyaae/activation.h"
#include "pyaae/cuda_launch.h"
#include "pyaae/fused_linear_cuda.h"
#include "pyaae/gemm_problem.h"

#if !defined(PYAAE_CUDA_EMULATION)
#include <mma.h>
#endif

namespace pyaae {
namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
// Shared tiles are padded by 4 floats: rows stay 16-byte aligned for WMMA loads (ldm a multiple of
// 4) while consecutive k rows start in different banks.
constexpr int kPad = 4;
constexpr int64_t kMaxGridY = 65535;

// Loads A[row0 .. +64, k0 .. +16] into tile[k][row] (zero outside A), times the activation gradient.
template <Activation Grad, int Threads>
__device__ __forceinline__ void load_a_tile(const GemmProblem& p, int64_t row0, int64_t k0,
                                            float (&tile)[kTileK][kTileM + kPad]) {
  // Consecutive threads walk A's contiguous dimension, so global loads coalesce.
  const bool along_k = p.a_col_stride == 1;
  for (int i = static_cast<int>(threadIdx.x); i < kTileM * kTileK; i += Threads) {
    const int r = along_k ? i / kTileK : i % kTileM;
    const int kk = along_k ? i % kTileK : i / kTileM;
    const int64_t gr = row0 + r, gk = k0 + kk;
    float v = 0.0f;
    if (gr < p.m && gk < p.k) {
      const int64_t off = gr * p.a_row_stride + gk * p.a_col_stride;
      v = p.a[off];
      if constexpr (Grad != Activation::Identity) v *= activation_grad_from_output<Grad>(p.a_y[off], p.negative_slope);
    }
    tile[kk][r] = v;
  }
}

// Loads B[k0 .. +16, col0 .. +64] into tile[k][col] (zero outside B).
template <int Threads>
__device__ __forceinline__ void load_b_tile(const GemmProblem& p, int64_t col0, int64_t k0,
                                            float (&tile)[kTileK][kTileN + kPad]) {
  const bool along_n = p.b_col_stride == 1;
  for (int i = static_cast<int>(threadIdx.x); i < kTileK * kTileN; i += Threads) {
    const int c = along_n ? i % kTileN : i / kTileK;
    const int kk = along_n ? i / kTileN : i % kTileK;
    const int64_t gc = col0 + c, gk = k0 + kk;
    tile[kk][c] = gc < p.n && gk < p.k ? p.b[gk * p.b_row_stride + gc * p.b_col_stride] : 0.0f;
  }
}

// Loads both tiles of k slice k0 and waits for the block; with `sums`, threads 0..63 add their A row's
// slice to *row_sum (the bias gradient, from the operand the GEMM reads anyway).
template <Activation Grad, int Threads>
__device__ __forceinline__ void load_tiles(const GemmProblem& p, int64_t row0, int64_t col0, int64_t k0,
                                           float (&a_tile)[kTileK][kTileM + kPad],
                                           float (&b_tile)[kTileK][kTileN + kPad], bool sums, double* row_sum) {
  load_a_tile<Grad, Threads>(p, row0, k0, a_tile);
  load_b_tile<Threads>(p, col0, k0, b_tile);
  __syncthreads();
  const int tid = static_cast<int>(threadIdx.x);
  if (sums && tid < kTileM) {
    for (int kk = 0; kk < kTileK; ++kk) *row_sum += a_tile[kk][tid];
  }
}

template <Activation Epilogue>
__device__ __forceinline__ void store_output(const GemmProblem& p, int64_t r, int64_t c, float acc) {
  if (r < p.m && c < p.n) {
    const float bias = p.bias != nullptr ? p.bias[c] : 0.0f;
    p.c[r * p.ldc + c] = activate<Epilogue>(acc + bias, p.negative_slope);
  }
}

constexpr int kFmaThreads = 256;  // 16 x 16 threads, each 4 x 4 outputs

template <Activation Epilogue, Activation Grad>
__global__ void __launch_bounds__(kFmaThreads) gemm_fma_kernel(GemmProblem p) {
  __shared__ float a_tile[kTileK][kTileM + kPad];
  __shared__ float b_tile[kTileK][kTileN + kPad];
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % 16, ty = tid / 16;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTileM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTileN;
  const bool sums = p.row_sums != nullptr && blockIdx.x == 0;
  float acc[4][4] = {};
  double row_sum = 0.0;
  for (int64_t k0 = 0; k0 < p.k; k0 += kTileK) {
    load_tiles<Grad, kFmaThreads>(p, row0, col0, k0, a_tile, b_tile, sums, &row_sum);
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = a_tile[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = b_tile[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();
  }
  if (sums && tid < kTileM && row0 + tid < p.m) p.row_sums[row0 + tid] = static_cast<float>(row_sum);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) store_output<Epilogue>(p, row0 + ty + 16 * i, col0 + tx + 16 * j, acc[i][j]);
  }
}

constexpr int kTf32Threads = 128;  // 4 warps, each a 32 x 32 sub-tile of 2 x 2 WMMA fragments

template <Activation Epilogue, Activation Grad>
__global__ void __launch_bounds__(kTf32Threads) gemm_tf32_kernel(GemmProblem p) {
  namespace wmma = nvcuda::wmma;
  alignas(32) __shared__ float a_tile[kTileK][kTileM + kPad];  // A column-major: a_tile[k][row]
  alignas(32) __shared__ float b_tile[kTileK][kTileN + kPad];  // B row-major: b_tile[k][col]
  alignas(32) __shared__ float c_tile[kTileM][kTileN + kPad];
  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid / 32;
  const int warp_row = (warp / 2) * 32, warp_col = (warp % 2) * 32;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTileM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTileN;
  const bool sums = p.row_sums != nullptr && blockIdx.x == 0;

  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
  for (auto& row : acc) {
    for (auto& frag : row) wmma::fill_fragment(frag, 0.0f);
  }
  double row_sum = 0.0;
  for (int64_t k0 = 0; k0 < p.k; k0 += kTileK) {
    load_tiles<Grad, kTf32Threads>(p, row0, col0, k0, a_tile, b_tile, sums, &row_sum);
    for (int kk = 0; kk < kTileK; kk += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> a[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> b[2];
      for (int i = 0; i < 2; ++i) {
        wmma::load_matrix_sync(a[i], &a_tile[kk][warp_row + 16 * i], kTileM + kPad);
        for (int t = 0; t < a[i].num_elements; ++t) a[i].x[t] = wmma::__float_to_tf32(a[i].x[t]);
        wmma::load_matrix_sync(b[i], &b_tile[kk][warp_col + 16 * i], kTileN + kPad);
        for (int t = 0; t < b[i].num_elements; ++t) b[i].x[t] = wmma::__float_to_tf32(b[i].x[t]);
      }
      for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();
  }
  if (sums && tid < kTileM && row0 + tid < p.m) p.row_sums[row0 + tid] = static_cast<float>(row_sum);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      wmma::store_matrix_sync(&c_tile[warp_row + 16 * i][warp_col + 16 * j], acc[i][j], kTileN + kPad,
                              wmma::mem_row_major);
    }
  }
  __syncthreads();
  for (int i = tid; i < kTileM * kTileN; i += kTf32Threads) {
    const int r = i / kTileN, c = i % kTileN;
    store_output<Epilogue>(p, row0 + r, col0 + c, c_tile[r][c]);
  }
}

// grad_bias alone (no weight gradient to carry it): one thread per output feature.
template <Activation Grad>
__global__ void bias_grad_kernel(const float* grad_y, const float* y, int64_t batch, int64_t out_features,
                                 float negative_slope, float* grad_bias) {
  const int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= out_features) return;
  double sum = 0.0;
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t off = i * out_features + o;
    float v = grad_y[off];
    if constexpr (Grad != Activation::Identity) v *= activation_grad_from_output<Grad>(y[off], negative_slope);
    sum += v;
  }
  grad_bias[o] = static_cast<float>(sum);
}

template <Activation Epilogue, Activation Grad>
void launch_variant(const GemmProblem& p, dim3 grid, cudaStream_t stream) {
  if (p.allow_tf32) {
    auto kernel = &gemm_tf32_kernel<Epilogue, Grad>;
    PYAAE_LAUNCH(kernel, grid, dim3(kTf32Threads), 0, stream, p);
  } else {
    auto kernel = &gemm_fma_kernel<Epilogue, Grad>;
    PYAAE_LAUNCH(kernel, grid, dim3(kFmaThreads), 0, stream, p);
  }
}

void launch_gemm(const GemmProblem& p, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0) return;
  const int64_t grid_y = (p.m + kTileM - 1) / kTileM;
  if (grid_y > kMaxGridY) {
    throw std::invalid_argument("the CUDA fused linear kernels take at most " +
                                std::to_string(kMaxGridY * kTileM) + " rows per GEMM");
  }
  const dim3 grid(static_cast<unsigned>((p.n + kTileN - 1) / kTileN), static_cast<unsigned>(grid_y));
  // Forward passes have an epilogue activation and no input gradient; backward passes the reverse.
  if (p.a_grad_activation == Activation::Identity) {
    dispatch_activation(p.activation, [&](auto e) { launch_variant<decltype(e)::value, Activation::Identity>(p, grid, stream); });
  } else {
    dispatch_activation(p.a_grad_activation, [&](auto g) { launch_variant<Activation::Identity, decltype(g)::value>(p, grid, stream); });
  }
  check_launch("fused linear GEMM kernel");
}

}  // namespace

void linear_forward_cuda(const LinearForwardArgs& args) {
  launch_gemm(forward_problem(args), static_cast<cudaStream_t>(args.stream));
}

void linear_backward_cuda(const LinearBackwardArgs& args) {
  auto s = static_cast<cudaStream_t>(args.stream);
  if (args.grad_x != nullptr) launch_gemm(grad_x_problem(args), s);
  const bool fused_bias = args.grad_weight != nullptr && args.in_features > 0;
  if (args.grad_weight != nullptr) launch_gemm(grad_weight_problem(args, fused_bias), s);
  if (args.grad_bias != nullptr && !fused_bias && args.out_features > 0) {
    constexpr int kBiasThreads = 128;
    const dim3 grid(static_cast<unsigned>((args.out_features + kBiasThreads - 1) / kBiasThreads));
    dispatch_activation(args.activation, [&](auto g) {
      auto kernel = &bias_grad_kernel<decltype(g)::value>;
      PYAAE_LAUNCH(kernel, grid, dim3(kBiasThreads), 0, s, args.grad_y, args.y, args.batch, args.out_features,
                   args.negative_slope, args.grad_bias);
    });
    check_launch("fused linear bias-gradient kernel");
  }
}

}  // namespace pyaae
