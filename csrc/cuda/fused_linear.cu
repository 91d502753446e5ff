// CUDA fused linear layer: a shared-memory tiled float32 GEMM (64x64 block tile, 16-deep k
// slices, 4x4 outputs per thread) over the GemmProblem of each pass (pyaae/gemm_problem.h). The
// activation gradient is applied as A tiles are loaded, the bias and activation in registers before
// the store, and the bias gradient is summed by the blocks of the first column tile from the A
// tiles they already hold.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "pyaae/activation.h"
#include "pyaae/cuda_launch.h"
#include "pyaae/fused_linear_cuda.h"
#include "pyaae/gemm_problem.h"

namespace pyaae {
namespace {

constexpr int kTileM = 64, kTileN = 64, kTileK = 16;
constexpr int kThreads = 256;  // 16 x 16, each computing kTileM / 16 x kTileN / 16 outputs
constexpr int kPerThreadM = kTileM / 16, kPerThreadN = kTileN / 16;
constexpr int64_t kMaxGridY = 65535;

template <Activation Epilogue, Activation Grad>
__global__ void __launch_bounds__(kThreads) gemm_kernel(GemmProblem p) {
  // +1 column of padding: tile loads write along k when A is k-contiguous, which would otherwise
  // put a warp's stores in few banks.
  __shared__ float a_tile[kTileK][kTileM + 1];
  __shared__ float b_tile[kTileK][kTileN + 1];
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % 16, ty = tid / 16;
  const int64_t row0 = static_cast<int64_t>(blockIdx.y) * kTileM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTileN;
  const bool sums = p.row_sums != nullptr && blockIdx.x == 0;
  // Consecutive threads walk the contiguous dimension of each operand, so global loads coalesce.
  const bool a_along_k = p.a_col_stride == 1;
  const bool b_along_n = p.b_col_stride == 1;

  float acc[kPerThreadM][kPerThreadN] = {};
  double row_sum = 0.0;
  for (int64_t k0 = 0; k0 < p.k; k0 += kTileK) {
    for (int i = tid; i < kTileM * kTileK; i += kThreads) {
      const int r = a_along_k ? i / kTileK : i % kTileM;
      const int kk = a_along_k ? i % kTileK : i / kTileM;
      const int64_t gr = row0 + r, gk = k0 + kk;
      float v = 0.0f;
      if (gr < p.m && gk < p.k) {
        const int64_t off = gr * p.a_row_stride + gk * p.a_col_stride;
        v = p.a[off];
        if constexpr (Grad != Activation::Identity) {
          v *= activation_grad_from_output<Grad>(p.a_y[off], p.negative_slope);
        }
      }
      a_tile[kk][r] = v;
    }
    for (int i = tid; i < kTileK * kTileN; i += kThreads) {
      const int c = b_along_n ? i % kTileN : i / kTileK;
      const int kk = b_along_n ? i / kTileN : i % kTileK;
      const int64_t gc = col0 + c, gk = k0 + kk;
      b_tile[kk][c] = gc < p.n && gk < p.k ? p.b[gk * p.b_row_stride + gc * p.b_col_stride] : 0.0f;
    }
    __syncthreads();
    if (sums && tid < kTileM) {
      for (int kk = 0; kk < kTileK; ++kk) row_sum += a_tile[kk][tid];
    }
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      float a[kPerThreadM], b[kPerThreadN];
#pragma unroll
      for (int i = 0; i < kPerThreadM; ++i) a[i] = a_tile[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < kPerThreadN; ++j) b[j] = b_tile[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < kPerThreadM; ++i) {
#pragma unroll
        for (int j = 0; j < kPerThreadN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();
  }
  if (sums && tid < kTileM && row0 + tid < p.m) p.row_sums[row0 + tid] = static_cast<float>(row_sum);
#pragma unroll
  for (int i = 0; i < kPerThreadM; ++i) {
    const int64_t r = row0 + ty + 16 * i;
    if (r >= p.m) continue;
#pragma unroll
    for (int j = 0; j < kPerThreadN; ++j) {
      const int64_t c = col0 + tx + 16 * j;
      if (c >= p.n) continue;
      const float bias = p.bias != nullptr ? p.bias[c] : 0.0f;
      p.c[r * p.ldc + c] = activate<Epilogue>(acc[i][j] + bias, p.negative_slope);
    }
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
    dispatch_activation(p.activation, [&](auto e) {
      auto kernel = &gemm_kernel<decltype(e)::value, Activation::Identity>;
      PYAAE_LAUNCH(kernel, grid, dim3(kThreads), 0, stream, p);
    });
  } else {
    dispatch_activation(p.a_grad_activation, [&](auto g) {
      auto kernel = &gemm_kernel<Activation::Identity, decltype(g)::value>;
      PYAAE_LAUNCH(kernel, grid, dim3(kThreads), 0, stream, p);
    });
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
