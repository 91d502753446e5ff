// SIMT emulation: lets the CUDA sources in csrc/cuda/ compile as plain C++ and run on the CPU, so the
// very kernels that run on a GPU are tested on machines without one.
//
// Model: a launch runs its blocks one at a time; a block runs as one OS thread per CUDA thread.
// __shared__ variables become function statics (one block at a time, so one block's threads share
// them), __syncthreads() is a std::barrier over the block's threads, warp shuffles and votes go
// through a per-warp exchange buffer between two barriers, atomics are real atomics. A thread that
// returns early drops out of its barriers, as an exited CUDA thread stops taking part in them.
#pragma once

#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

using cudaStream_t = struct CUstream_st*;

// CUDA's vector types, as far as the kernels use them, aligned as on a GPU.
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) float2 {
  float x, y;
};

namespace pyaae::emu {

constexpr unsigned kWarpSize = 32;

struct Warp {
  explicit Warp(unsigned lanes) : size(lanes), barrier(lanes) {}
  unsigned size;
  std::barrier<> barrier;
  uint64_t slots[kWarpSize] = {};
};

struct ThreadContext {
  dim3 thread_idx, block_idx, block_dim, grid_dim;
  std::barrier<>* block_barrier = nullptr;
  Warp* warp = nullptr;
  unsigned lane = 0;
  void* dynamic_shared = nullptr;
};

inline thread_local ThreadContext context;

// Exchanges one value per lane through the warp's slots: every lane writes, all wait, each reads
// lane `source` (its own value when source is out of range), all wait again before slots are reused.
template <class T>
T exchange(T value, int source) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>, "shuffle of an unsupported type");
  Warp& warp = *context.warp;
  std::memcpy(&warp.slots[context.lane], &value, sizeof(T));
  warp.barrier.arrive_and_wait();
  T result = value;
  if (source >= 0 && static_cast<unsigned>(source) < kWarpSize) std::memcpy(&result, &warp.slots[source], sizeof(T));
  warp.barrier.arrive_and_wait();
  return result;
}

// Bit i set when lane i's predicate holds, for the lanes the warp has.
inline unsigned ballot(bool predicate) {
  Warp& warp = *context.warp;
  warp.slots[context.lane] = predicate ? 1 : 0;
  warp.barrier.arrive_and_wait();
  unsigned bits = 0;
  for (unsigned lane = 0; lane < warp.size; ++lane) bits |= static_cast<unsigned>(warp.slots[lane] != 0) << lane;
  warp.barrier.arrive_and_wait();
  return bits;
}

template <class Kernel, class... Args>
void launch(dim3 grid, dim3 block, std::size_t dynamic_shared_bytes, Kernel kernel, Args... args) {
  const unsigned threads = block.x * block.y * block.z;
  std::vector<unsigned char> dynamic_shared(dynamic_shared_bytes);
  for (unsigned bz = 0; bz < grid.z; ++bz) {
    for (unsigned by = 0; by < grid.y; ++by) {
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        std::barrier<> block_barrier(threads);
        std::vector<std::unique_ptr<Warp>> warps;
        for (unsigned first = 0; first < threads; first += kWarpSize) {
          warps.push_back(std::make_unique<Warp>(std::min(kWarpSize, threads - first)));
        }
        std::vector<std::thread> workers;
        workers.reserve(threads);
        for (unsigned t = 0; t < threads; ++t) {
          workers.emplace_back([&, t] {
            ThreadContext& c = context;
            c.thread_idx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
            c.block_idx = dim3(bx, by, bz);
            c.block_dim = block;
            c.grid_dim = grid;
            c.block_barrier = &block_barrier;
            c.warp = warps[t / kWarpSize].get();
            c.lane = t % kWarpSize;
            c.dynamic_shared = dynamic_shared.data();
            kernel(args...);
            c.warp->barrier.arrive_and_drop();
            block_barrier.arrive_and_drop();
          });
        }
        for (auto& w : workers) w.join();
      }
    }
  }
}

}  // namespace pyaae::emu

#define threadIdx (::pyaae::emu::context.thread_idx)
#define blockIdx (::pyaae::emu::context.block_idx)
#define blockDim (::pyaae::emu::context.block_dim)
#define gridDim (::pyaae::emu::context.grid_dim)
#define warpSize (static_cast<int>(::pyaae::emu::kWarpSize))

inline void __syncthreads() { ::pyaae::emu::context.block_barrier->arrive_and_wait(); }

template <class T>
T __shfl_sync(unsigned, T value, int source_lane, int width = warpSize) {
  const int base = static_cast<int>(::pyaae::emu::context.lane) / width * width;
  return ::pyaae::emu::exchange(value, base + source_lane % width);
}
template <class T>
T __shfl_down_sync(unsigned, T value, unsigned delta, int width = warpSize) {
  const int lane = static_cast<int>(::pyaae::emu::context.lane);
  const int source = lane % width + static_cast<int>(delta) < width ? lane + static_cast<int>(delta) : -1;
  return ::pyaae::emu::exchange(value, source);
}
template <class T>
T __shfl_xor_sync(unsigned, T value, int mask, int width = warpSize) {
  const int lane = static_cast<int>(::pyaae::emu::context.lane);
  const int source = lane ^ mask;
  return ::pyaae::emu::exchange(value, source / width == lane / width ? source : -1);
}
inline unsigned __ballot_sync(unsigned, int predicate) {
  return ::pyaae::emu::ballot(predicate != 0);
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }

inline float atomicAdd(float* address, float value) {
  uint32_t* word = reinterpret_cast<uint32_t*>(address);
  uint32_t expected = __atomic_load_n(word, __ATOMIC_RELAXED);
  for (;;) {
    float old;
    std::memcpy(&old, &expected, sizeof(float));
    const float updated = old + value;
    uint32_t desired;
    std::memcpy(&desired, &updated, sizeof(float));
    if (__atomic_compare_exchange_n(word, &expected, desired, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return old;
  }
}
template <class T, class = std::enable_if_t<std::is_integral_v<T>>>
T atomicAdd(T* address, T value) {
  return __atomic_fetch_add(address, value, __ATOMIC_ACQ_REL);
}

// WMMA (tensor-core) fragments, as far as the kernels use them: TF32 m16n16k8 with float
// accumulators. A real warp spreads a fragment over its 32 lanes in an unspecified layout; here
// every lane holds the whole tile (row-major), loads read all of it, mma_sync computes all of it,
// and lane 0 alone stores it (the kernel's next __syncthreads publishes it, as on a GPU).
namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
  static constexpr int rows = std::is_same_v<Use, matrix_b> ? K : M;
  static constexpr int cols = std::is_same_v<Use, matrix_a> ? K : N;
  static constexpr int num_elements = rows * cols;
  float x[num_elements];
};

// Round to nearest, ties away from zero, keeping 10 mantissa bits (cvt.rna.tf32.f32).
inline float __float_to_tf32(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7f800000u) != 0x7f800000u) bits = (bits + 0x1000u) & 0xffffe000u;  // Inf and NaN pass
  std::memcpy(&value, &bits, sizeof bits);
  return value;
}

template <class Use, int M, int N, int K, class T, class Layout>
void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, float value) {
  for (float& v : f.x) v = value;
}

template <class Use, int M, int N, int K, class T, class Layout>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const float* p, unsigned ldm) {
  using F = fragment<Use, M, N, K, T, Layout>;
  for (int r = 0; r < F::rows; ++r) {
    for (int c = 0; c < F::cols; ++c) {
      f.x[r * F::cols + c] = std::is_same_v<Layout, col_major> ? p[c * ldm + r] : p[r * ldm + c];
    }
  }
}

template <int M, int N, int K, class LayoutA, class LayoutB>
void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, precision::tf32, LayoutA>& a,
              const fragment<matrix_b, M, N, K, precision::tf32, LayoutB>& b,
              const fragment<accumulator, M, N, K, float>& c) {
  float out[M * N];
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      float sum = c.x[i * N + j];
      for (int k = 0; k < K; ++k) sum = std::fma(a.x[i * K + k], b.x[k * N + j], sum);
      out[i * N + j] = sum;
    }
  }
  std::memcpy(d.x, out, sizeof out);
}

template <int M, int N, int K>
void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout) {
  if (::pyaae::emu::context.lane != 0) return;
  for (int r = 0; r < M; ++r) {
    for (int c = 0; c < N; ++c) {
      (layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r]) = f.x[r * N + c];
    }
  }
}

}  // namespace nvcuda::wmma

// Kernel launch: `kernel<<<grid, block, shared, stream>>>(args...)` under nvcc, the emulator here.
// The stream is evaluated and dropped: launches run in order, as on one stream.
#define PYAAE_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  (static_cast<void>(stream), ::pyaae::emu::launch((grid), (block), (shared_bytes), (kernel), __VA_ARGS__))
