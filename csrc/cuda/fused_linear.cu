// CUDA fused linear layer: each pass is a GemmProblem (pyaae/gemm_problem.h) run by one GEMM kernel.
//
// The float32 path is the classic SIMT SGEMM: 128x128 block tiles, 8-deep k slices, 256 threads of
// 8x8 accumulators laid out as 2x2 sub-tiles of 4x4 (float4 shared loads, no bank conflicts); A and
// B are stored k-major in double-buffered shared memory, and the next slice is fetched into
// registers while the current one is multiplied (one __syncthreads per slice). Smaller tiles are
// chosen where 128x128 would leave SMs idle (64x64), or for narrow outputs (64x16, 16x64: n or m up
// to 16). When even those leave the GPU mostly idle and k is deep (the weight gradient of a narrow
// layer sums over the whole batch), k is split over gridDim.z into a caller-provided workspace and
// a second kernel adds the slices in a fixed order: results are the same run to run. With
// allow_tf32 the multiply runs on TF32 tensor cores instead (WMMA m16n16k8, 64x64 tiles, a 32x32
// sub-tile per warp), over the same loaders and pipeline.
//
// Fused into the GEMM: the activation gradient is applied as A is loaded (gemm_tiles.cuh), the bias and
// activation before the store, and the bias gradient is summed by the blocks of the first column
// tile from the A tiles they hold anyway (in double, before any TF32 rounding; under split-K each
// slice's sum is stored as a float partial and the partials are added in double).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gemm_tiles.cuh"
#include "pyaae/activation.h"
#include "pyaae/cuda_launch.h"
#include "pyaae/fused_linear_cuda.h"
#include "pyaae/gemm_problem.h"

#if !defined(PYAAE_CUDA_EMULATION)
#include <mma.h>
#endif

namespace pyaae {
namespace {

// The split of k over gridDim.z: block z sums k in [z chunk, (z + 1) chunk). With more than one
// slice, `partials` holds slices [splits][m][n] of C, then slices [splits][m] of the row sums.
struct SplitK {
  int splits = 1;
  int64_t chunk = 0;
  float* partials = nullptr;
};

// A block tile of Threads threads, each (M / ThreadsM) x (N / ThreadsN) outputs in 4x4 sub-tiles.
template <int M, int N, int Depth, int Threads, int MinBlocks>
struct TileShape {
  static constexpr int kM = M, kN = N, kDepth = Depth, kThreads = Threads, kMinBlocks = MinBlocks;
};
// FMA tiles: 8-deep slices (a float4 of A and of B per thread at 128x128).
using LargeTile = TileShape<128, 128, 8, 256, 2>;  // 8x8 per thread; 2 blocks/SM caps registers at 128
using MediumTile = TileShape<64, 64, 8, 256, 3>;
using NarrowNTile = TileShape<64, 16, 8, 64, 8>;  // n <= 16: grad_x and forward of 1000 -> 8
using NarrowMTile = TileShape<16, 64, 8, 64, 8>;  // m <= 16: the weight gradient of 1000 -> 8
using Tf32Tile = TileShape<64, 64, 16, 128, 4>;

// The k values this block sums: all of k, or its split-K slice.
struct KRange {
  int64_t begin, end;
};
__device__ __forceinline__ KRange k_range(const GemmProblem& p, const SplitK& split) {
  const int64_t begin = static_cast<int64_t>(blockIdx.z) * split.chunk;
  const int64_t end = begin + split.chunk;
  return {begin, end < p.k ? end : p.k};
}

// The pipelined main loop shared by both kernels: slice s + 1 is fetched into registers while
// `multiply(buffer)` works on slice s in shared memory, then stored into the other buffer; one
// barrier per slice. Threads below Tile::kM add their A row's values to *row_sum when `sums`.
template <class Tile, Activation Grad, class Multiply>
__device__ __forceinline__ void main_loop(const GemmProblem& p, KRange ks, int64_t row0, int64_t col0,
                                          float (&a_tile)[2][Tile::kDepth][Tile::kM + kSmemPad],
                                          float (&b_tile)[2][Tile::kDepth][Tile::kN + kSmemPad], bool sums,
                                          double* row_sum, Multiply&& multiply) {
  constexpr int kDepth = Tile::kDepth;
  static_assert(Tile::kThreads >= Tile::kM, "one thread per A row sums the bias gradient");
  TileLoader<Side::A, Tile::kM, kDepth, Tile::kThreads> a(p, row0);
  TileLoader<Side::B, Tile::kN, kDepth, Tile::kThreads> b(p, col0);
  if (ks.begin < ks.end) {
    a.template fetch<Grad>(ks.begin, ks.end, p.negative_slope);
    b.template fetch<Activation::Identity>(ks.begin, ks.end, 0.0f);
    a.store(a_tile[0]);
    b.store(b_tile[0]);
  }
  __syncthreads();
  const int tid = static_cast<int>(threadIdx.x);
  int buffer = 0;
  for (int64_t k0 = ks.begin; k0 < ks.end; k0 += kDepth) {
    const bool more = k0 + kDepth < ks.end;
    if (more) {
      a.template fetch<Grad>(k0 + kDepth, ks.end, p.negative_slope);
      b.template fetch<Activation::Identity>(k0 + kDepth, ks.end, 0.0f);
    }
    if (sums && tid < Tile::kM) {
      for (int kk = 0; kk < kDepth; ++kk) *row_sum += a_tile[buffer][kk][tid];
    }
    multiply(buffer);
    if (more) {
      a.store(a_tile[buffer ^ 1]);
      b.store(b_tile[buffer ^ 1]);
    }
    __syncthreads();
    buffer ^= 1;
  }
}

// Writes V consecutive outputs of row r from column c: act(acc + bias) into C, or the raw sums into
// this block's slice of the split-K partials. Vector stores where the row and pointer allow them.
template <Activation Epilogue, int V>
__device__ __forceinline__ void write_outputs(const GemmProblem& p, const SplitK& split, int64_t r, int64_t c,
                                              const float* acc) {
  if (r >= p.m || c >= p.n) return;
  const bool partial = split.partials != nullptr;
  float* base = partial ? split.partials + static_cast<int64_t>(blockIdx.z) * p.m * p.n : p.c;
  const int64_t ld = partial ? p.n : p.ldc;
  float v[V];
#pragma unroll
  for (int e = 0; e < V; ++e) {
    const float bias = !partial && p.bias != nullptr && c + e < p.n ? p.bias[c + e] : 0.0f;
    v[e] = partial ? acc[e] : activate<Epilogue>(acc[e] + bias, p.negative_slope);
  }
  float* out = base + r * ld + c;
  if (c + V <= p.n && ld % V == 0 && is_aligned<V>(base)) {
    store_vector<V>(out, v);
  } else {
    for (int e = 0; e < V && c + e < p.n; ++e) out[e] = v[e];
  }
}

__device__ __forceinline__ void write_row_sum(const GemmProblem& p, const SplitK& split, int64_t r, double sum) {
  if (r >= p.m) return;
  if (split.partials != nullptr) {
    split.partials[split.splits * p.m * p.n + static_cast<int64_t>(blockIdx.z) * p.m + r] = static_cast<float>(sum);
  } else {
    p.row_sums[r] = static_cast<float>(sum);
  }
}

template <class Tile, Activation Epilogue, Activation Grad>
__global__ void __launch_bounds__(Tile::kThreads, Tile::kMinBlocks) gemm_fma_kernel(GemmProblem p, SplitK split) {
  // At most 16 threads along n: a warp's float4 loads of a k row then read at most 16 float4s of B
  // and 2 of A (a broadcast), conflict-free.
  constexpr int kThreadsN = Tile::kN / 4 < 16 ? Tile::kN / 4 : 16;
  constexpr int kThreadsM = Tile::kThreads / kThreadsN;
  constexpr int kRows = Tile::kM / kThreadsM, kCols = Tile::kN / kThreadsN;  // per thread, multiples of 4
  static_assert(kRows % 4 == 0 && kCols % 4 == 0 && kThreadsM * kRows == Tile::kM, "4x4 sub-tiles");
  alignas(16) __shared__ float a_tile[2][Tile::kDepth][Tile::kM + kSmemPad];
  alignas(16) __shared__ float b_tile[2][Tile::kDepth][Tile::kN + kSmemPad];
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % kThreadsN, ty = tid / kThreadsN;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * Tile::kM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.y) * Tile::kN;
  const bool sums = p.row_sums != nullptr && blockIdx.y == 0;
  float acc[kRows][kCols] = {};
  double row_sum = 0.0;
  // The thread's sub-tile (i, j) starts at row 4 (ty + kThreadsM i) and column 4 (tx + kThreadsN j).
  main_loop<Tile, Grad>(p, k_range(p, split), row0, col0, a_tile, b_tile, sums, &row_sum, [&](int buffer) {
#pragma unroll
    for (int kk = 0; kk < Tile::kDepth; ++kk) {
      float a[kRows], b[kCols];
#pragma unroll
      for (int i = 0; i < kRows / 4; ++i) load_vector<4>(&a_tile[buffer][kk][4 * (ty + kThreadsM * i)], &a[4 * i]);
#pragma unroll
      for (int j = 0; j < kCols / 4; ++j) load_vector<4>(&b_tile[buffer][kk][4 * (tx + kThreadsN * j)], &b[4 * j]);
#pragma unroll
      for (int i = 0; i < kRows; ++i) {
#pragma unroll
        for (int j = 0; j < kCols; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
  });
  if (sums && tid < Tile::kM) write_row_sum(p, split, row0 + tid, row_sum);
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    const int64_t r = row0 + 4 * (ty + kThreadsM * (i / 4)) + i % 4;
#pragma unroll
    for (int j = 0; j < kCols / 4; ++j) {
      write_outputs<Epilogue, 4>(p, split, r, col0 + 4 * (tx + kThreadsN * j), &acc[i][4 * j]);
    }
  }
}

template <Activation Epilogue, Activation Grad>
__global__ void __launch_bounds__(Tf32Tile::kThreads, Tf32Tile::kMinBlocks)
    gemm_tf32_kernel(GemmProblem p, SplitK split) {
  namespace wmma = nvcuda::wmma;
  constexpr int kM = Tf32Tile::kM, kN = Tf32Tile::kN;
  alignas(32) __shared__ float a_tile[2][Tf32Tile::kDepth][kM + kSmemPad];  // A column-major: [k][row]
  alignas(32) __shared__ float b_tile[2][Tf32Tile::kDepth][kN + kSmemPad];  // B row-major: [k][col]
  alignas(32) __shared__ float c_tile[kM][kN + kSmemPad];
  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid / 32;
  const int warp_row = (warp / 2) * 32, warp_col = (warp % 2) * 32;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kM;
  const int64_t col0 = static_cast<int64_t>(blockIdx.y) * kN;
  const bool sums = p.row_sums != nullptr && blockIdx.y == 0;

  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
  for (auto& row : acc) {
    for (auto& frag : row) wmma::fill_fragment(frag, 0.0f);
  }
  double row_sum = 0.0;
  main_loop<Tf32Tile, Grad>(p, k_range(p, split), row0, col0, a_tile, b_tile, sums, &row_sum, [&](int buffer) {
    for (int kk = 0; kk < Tf32Tile::kDepth; kk += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::col_major> a[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> b[2];
      for (int i = 0; i < 2; ++i) {
        wmma::load_matrix_sync(a[i], &a_tile[buffer][kk][warp_row + 16 * i], kM + kSmemPad);
        for (int t = 0; t < a[i].num_elements; ++t) a[i].x[t] = wmma::__float_to_tf32(a[i].x[t]);
        wmma::load_matrix_sync(b[i], &b_tile[buffer][kk][warp_col + 16 * i], kN + kSmemPad);
        for (int t = 0; t < b[i].num_elements; ++t) b[i].x[t] = wmma::__float_to_tf32(b[i].x[t]);
      }
      for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
      }
    }
  });
  if (sums && tid < kM) write_row_sum(p, split, row0 + tid, row_sum);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      wmma::store_matrix_sync(&c_tile[warp_row + 16 * i][warp_col + 16 * j], acc[i][j], kN + kSmemPad,
                              wmma::mem_row_major);
    }
  }
  __syncthreads();
  for (int i = tid; i < kM * kN / 4; i += Tf32Tile::kThreads) {
    const int r = i / (kN / 4), c = i % (kN / 4) * 4;
    write_outputs<Epilogue, 4>(p, split, row0 + r, col0 + c, &c_tile[r][c]);
  }
}

// Second pass of a split-K GEMM: adds the slices in order (deterministic), then the epilogue; the
// elements after m x n are the row sums.
template <Activation Epilogue>
__global__ void sum_splits_kernel(GemmProblem p, SplitK split) {
  const int64_t mn = p.m * p.n;
  const int64_t total = mn + (p.row_sums != nullptr ? p.m : 0);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    if (i < mn) {
      float sum = 0.0f;
      for (int s = 0; s < split.splits; ++s) sum += split.partials[s * mn + i];
      const int64_t r = i / p.n, c = i % p.n;
      const float bias = p.bias != nullptr ? p.bias[c] : 0.0f;
      p.c[r * p.ldc + c] = activate<Epilogue>(sum + bias, p.negative_slope);
    } else {
      const int64_t r = i - mn;
      double sum = 0.0;
      for (int s = 0; s < split.splits; ++s) sum += split.partials[split.splits * mn + s * p.m + r];
      p.row_sums[r] = static_cast<float>(sum);
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

// Dropout on the forward output, in place: one thread per element (pyaae/dropout.h).
__global__ void dropout_forward_kernel(float* y, int64_t elements, int64_t out_features, Dropout d) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= elements) return;
  y[e] *= dropout_factor_at(d, e / out_features, e % out_features);
}

// scratch = G = dL/d(pre-activation) through the regenerated mask and the activation.
template <Activation Grad>
__global__ void dropout_grad_kernel(const float* grad_y, const float* y, int64_t elements, int64_t out_features,
                                    Dropout d, float negative_slope, float* scratch) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= elements) return;
  const float factor = dropout_factor_at(d, e / out_features, e % out_features);
  scratch[e] = dropout_grad<Grad>(grad_y[e], y[e], factor, d.p, negative_slope);
}

constexpr int kElementwiseThreads = 256;

dim3 elementwise_grid(int64_t elements) {
  return dim3(static_cast<unsigned>((elements + kElementwiseThreads - 1) / kElementwiseThreads));
}

int multiprocessor_count() {
#if defined(PYAAE_CUDA_EMULATION)
  // No device to ask. A small count makes the emulator's small test shapes take the same paths
  // (128x128 tiles, split-K) as the benchmark shapes do on a GPU.
  return 4;
#else
  int device = 0, count = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
  return std::max(count, 1);
#endif
}

enum class TileKind { Large, Medium, NarrowN, NarrowM, Tf32 };

template <class F>
void with_tile(TileKind kind, F&& f) {
  switch (kind) {
    case TileKind::Large: return f(LargeTile{});
    case TileKind::Medium: return f(MediumTile{});
    case TileKind::NarrowN: return f(NarrowNTile{});
    case TileKind::NarrowM: return f(NarrowMTile{});
    case TileKind::Tf32: return f(Tf32Tile{});
  }
}

struct GemmPlan {
  TileKind tile = TileKind::Medium;
  int64_t tiles_m = 0, tiles_n = 0;
  SplitK split;
};

constexpr int kMaxSplits = 32;
constexpr int64_t kMinSplitDepth = 128;  // k per slice: shallower slices cost more in partials than they gain
constexpr int64_t kMaxColumns = 65535 * int64_t{64};  // gridDim.y tiles of 64 (n <= 16 is one tile)

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Workspace floats a split of p into `splits` slices needs.
int64_t split_floats(const GemmProblem& p, int64_t splits) { return splits > 1 ? splits * (p.m * p.n + p.m) : 0; }

// The tile for p, and the split of k when the tiles alone leave most of the GPU idle and `workspace`
// floats hold the partials.
GemmPlan plan_gemm(const GemmProblem& p, int sms, int64_t workspace) {
  GemmPlan plan;
  const int64_t large_tiles = ceil_div(p.m, LargeTile::kM) * ceil_div(p.n, LargeTile::kN);
  plan.tile = p.allow_tf32 ? TileKind::Tf32
              : p.n <= 16  ? TileKind::NarrowN
              : p.m <= 16  ? TileKind::NarrowM
              : large_tiles >= sms ? TileKind::Large
                                   : TileKind::Medium;
  int threads = 0;
  with_tile(plan.tile, [&](auto tile) {
    using Tile = decltype(tile);
    plan.tiles_m = ceil_div(p.m, Tile::kM);
    plan.tiles_n = ceil_div(p.n, Tile::kN);
    threads = Tile::kThreads;
  });
  // Fewer threads than one 256-thread block per SM: split k until about two such blocks per SM.
  const int64_t resident = plan.tiles_m * plan.tiles_n * threads;
  int64_t splits = 1;
  if (resident > 0 && resident < static_cast<int64_t>(sms) * 256) {
    splits = std::min({ceil_div(static_cast<int64_t>(sms) * 512, resident), static_cast<int64_t>(kMaxSplits),
                       std::max<int64_t>(p.k / kMinSplitDepth, 1)});
  }
  // Slices of whole 16-deep steps, so every slice but the last is a multiple of every tile's depth.
  int64_t chunk = ceil_div(ceil_div(std::max<int64_t>(p.k, 1), splits), 16) * 16;
  splits = ceil_div(std::max<int64_t>(p.k, 1), chunk);
  if (splits > 1 && split_floats(p, splits) > workspace) {
    splits = 1;
    chunk = std::max<int64_t>(p.k, 1);
  }
  plan.split.splits = static_cast<int>(splits);
  plan.split.chunk = splits > 1 ? chunk : std::max<int64_t>(p.k, 1);
  return plan;
}

template <Activation Epilogue, Activation Grad>
void launch_variant(const GemmProblem& p, const GemmPlan& plan, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(plan.tiles_m), static_cast<unsigned>(plan.tiles_n),
                  static_cast<unsigned>(plan.split.splits));
  with_tile(plan.tile, [&](auto tile) {
    using Tile = decltype(tile);
    if constexpr (std::is_same_v<Tile, Tf32Tile>) {
      auto kernel = &gemm_tf32_kernel<Epilogue, Grad>;
      PYAAE_LAUNCH(kernel, grid, dim3(Tile::kThreads), 0, stream, p, plan.split);
    } else {
      auto kernel = &gemm_fma_kernel<Tile, Epilogue, Grad>;
      PYAAE_LAUNCH(kernel, grid, dim3(Tile::kThreads), 0, stream, p, plan.split);
    }
  });
  check_launch("fused linear GEMM kernel");
  if (plan.split.splits > 1) {
    constexpr int kSumThreads = 256;
    const int64_t total = p.m * p.n + (p.row_sums != nullptr ? p.m : 0);
    const int64_t blocks =
        std::min<int64_t>(ceil_div(total, kSumThreads), 8 * static_cast<int64_t>(multiprocessor_count()));
    auto kernel = &sum_splits_kernel<Epilogue>;
    PYAAE_LAUNCH(kernel, dim3(static_cast<unsigned>(blocks)), dim3(kSumThreads), 0, stream, p, plan.split);
    check_launch("fused linear split-K sum kernel");
  }
}

void launch_gemm(const GemmProblem& problem, float* workspace, int64_t workspace_floats, cudaStream_t stream) {
  if (problem.m == 0 || problem.n == 0) return;
  if (problem.n > kMaxColumns) {
    throw std::invalid_argument("the CUDA fused linear kernels take at most " + std::to_string(kMaxColumns) +
                                " columns per GEMM");
  }
  GemmPlan plan = plan_gemm(problem, multiprocessor_count(), workspace != nullptr ? workspace_floats : 0);
  if (plan.split.splits > 1) plan.split.partials = workspace;
  // Forward passes have an epilogue activation and no input gradient; backward passes the reverse.
  const GemmProblem& p = problem;
  if (p.a_grad_activation == Activation::Identity) {
    dispatch_activation(p.activation, [&](auto e) { launch_variant<decltype(e)::value, Activation::Identity>(p, plan, stream); });
  } else {
    dispatch_activation(p.a_grad_activation, [&](auto g) { launch_variant<Activation::Identity, decltype(g)::value>(p, plan, stream); });
  }
}

}  // namespace

int64_t linear_workspace_floats_cuda(int64_t batch, int64_t in_features, int64_t out_features, bool allow_tf32) {
  LinearForwardArgs f;
  f.batch = batch, f.in_features = in_features, f.out_features = out_features, f.allow_tf32 = allow_tf32;
  LinearBackwardArgs g;
  g.batch = batch, g.in_features = in_features, g.out_features = out_features, g.allow_tf32 = allow_tf32;
  const int sms = multiprocessor_count();
  const auto need = [&](const GemmProblem& p) {
    return split_floats(p, plan_gemm(p, sms, std::numeric_limits<int64_t>::max()).split.splits);
  };
  return std::max({need(forward_problem(f)), need(grad_x_problem(g)), need(grad_weight_problem(g, true))});
}

void linear_forward_cuda(const LinearForwardArgs& args) {
  auto s = static_cast<cudaStream_t>(args.stream);
  launch_gemm(forward_problem(args), args.workspace, args.workspace_floats, s);
  const int64_t elements = args.batch * args.out_features;
  if (dropout_active(args.dropout) && elements > 0) {
    PYAAE_LAUNCH(dropout_forward_kernel, elementwise_grid(elements), dim3(kElementwiseThreads), 0, s, args.y, elements,
                 args.out_features, args.dropout);
    check_launch("fused linear dropout kernel");
  }
}

void linear_backward_cuda(const LinearBackwardArgs& args) {
  auto s = static_cast<cudaStream_t>(args.stream);
  const int64_t elements = args.batch * args.out_features;
  if (dropout_active(args.dropout) && elements > 0) {
    // G is formed once, then both GEMMs read it as a plain (identity-activation) gradient.
    dispatch_activation(args.activation, [&](auto g) {
      auto kernel = &dropout_grad_kernel<decltype(g)::value>;
      PYAAE_LAUNCH(kernel, elementwise_grid(elements), dim3(kElementwiseThreads), 0, s, args.grad_y, args.y, elements,
                   args.out_features, args.dropout, args.negative_slope, args.dropout_scratch);
    });
    check_launch("fused linear dropout-gradient kernel");
    linear_backward_cuda(after_dropout_grad(args));
    return;
  }
  // The two GEMMs run one after the other on one stream, so they can share the workspace.
  if (args.grad_x != nullptr) launch_gemm(grad_x_problem(args), args.workspace, args.workspace_floats, s);
  const bool fused_bias = args.grad_weight != nullptr && args.in_features > 0;
  if (args.grad_weight != nullptr) {
    launch_gemm(grad_weight_problem(args, fused_bias), args.workspace, args.workspace_floats, s);
  }
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
