// Operand tiles of the CUDA fused linear GEMMs: global memory -> registers -> shared memory, stored
// k-major (tile[k][row]) whatever the operand's layout, so the multiply reads A along m and B along n
// as float4s. Splitting the copy at the registers lets a kernel fetch the next k slice while it
// multiplies the current one. Loads are vectors (float4, or float2 for small tiles) when the
// operand's contiguous dimension, its other stride and its pointers allow them, and element by
// element, zero-filled past the edges, otherwise.
#pragma once

#include <cstdint>

#include "pyaae/activation.h"
#include "pyaae/cuda_launch.h"  // the SIMT emulator's CUDA keywords when compiled as C++
#include "pyaae/gemm_problem.h"

namespace pyaae {

// Shared rows are padded by 4 floats: they stay 16-byte aligned (float4 and WMMA loads) while a
// warp's transposing stores, which write k rows 4 apart, fall in different banks.
constexpr int kSmemPad = 4;

template <int V>
__device__ __forceinline__ void load_vector(const float* p, float* out) {
  if constexpr (V == 4) {
    const float4 t = *reinterpret_cast<const float4*>(p);
    out[0] = t.x, out[1] = t.y, out[2] = t.z, out[3] = t.w;
  } else if constexpr (V == 2) {
    const float2 t = *reinterpret_cast<const float2*>(p);
    out[0] = t.x, out[1] = t.y;
  } else {
    out[0] = *p;
  }
}

template <int V>
__device__ __forceinline__ void store_vector(float* p, const float* v) {
  if constexpr (V == 4) {
    *reinterpret_cast<float4*>(p) = float4{v[0], v[1], v[2], v[3]};
  } else if constexpr (V == 2) {
    *reinterpret_cast<float2*>(p) = float2{v[0], v[1]};
  } else {
    *p = v[0];
  }
}

template <int V>
__host__ __device__ __forceinline__ bool is_aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % (V * sizeof(float)) == 0;
}

// Which GEMM operand a loader reads. Its fields are read from the kernel's GemmProblem parameter
// each time rather than copied, which keeps them out of the registers the accumulators need.
enum class Side { A, B };

// One operand as the loaders see it: `rows` along m (for A) or n (for B), read through row_stride
// and k_stride; for A with a gradient activation, `y` holds the saved outputs at the same offsets.
template <Side S>
struct Operand {
  const GemmProblem& p;
  __device__ __forceinline__ const float* data() const { return S == Side::A ? p.a : p.b; }
  __device__ __forceinline__ const float* y() const { return S == Side::A ? p.a_y : nullptr; }
  __device__ __forceinline__ int64_t row_stride() const { return S == Side::A ? p.a_row_stride : p.b_col_stride; }
  __device__ __forceinline__ int64_t k_stride() const { return S == Side::A ? p.a_col_stride : p.b_row_stride; }
  __device__ __forceinline__ int64_t rows() const { return S == Side::A ? p.m : p.n; }
};

// Copies the [Rows x Depth] tile at (row0, k0) of one operand through this thread's registers.
// Consecutive threads take consecutive vectors along the operand's contiguous dimension, so global
// loads coalesce.
template <Side S, int Rows, int Depth, int Threads>
class TileLoader {
 public:
  static constexpr int kPerThread = Rows * Depth / Threads;
  static constexpr int kVec = kPerThread >= 4 ? 4 : kPerThread;
  static constexpr int kVectors = kPerThread / kVec;
  static_assert(Rows * Depth % Threads == 0 && kPerThread % kVec == 0 && Rows % kVec == 0 && Depth % kVec == 0,
                "tile not evenly split over the threads in vectors");
  using Tile = float[Depth][Rows + kSmemPad];

  __device__ TileLoader(const GemmProblem& p, int64_t row0) : op_{p}, row0_(row0), along_k_(op_.k_stride() == 1) {
    const int64_t other = along_k_ ? op_.row_stride() : op_.k_stride();
    vectors_ = kVec > 1 && (along_k_ || op_.row_stride() == 1) && other % kVec == 0 && is_aligned<kVec>(op_.data()) &&
               (op_.y() == nullptr || is_aligned<kVec>(op_.y()));
  }

  // Reads the slice starting at k0 (k values from `depth` on read as zeros), times the activation
  // gradient when Grad is not Identity.
  template <Activation Grad>
  __device__ __forceinline__ void fetch(int64_t k0, int64_t depth, float negative_slope) {
#pragma unroll
    for (int i = 0; i < kVectors; ++i) {
      int r, kk;
      place(i, &r, &kk);
      const int64_t gr = row0_ + r, gk = k0 + kk;
      float* out = &v_[i * kVec];
      const bool whole = along_k_ ? gr < op_.rows() && gk + kVec <= depth : gk < depth && gr + kVec <= op_.rows();
      if (vectors_ && whole) {
        const int64_t off = gr * op_.row_stride() + gk * op_.k_stride();
        load_vector<kVec>(op_.data() + off, out);
        if constexpr (Grad != Activation::Identity) {
          float y[kVec];
          load_vector<kVec>(op_.y() + off, y);
#pragma unroll
          for (int e = 0; e < kVec; ++e) out[e] *= activation_grad_from_output<Grad>(y[e], negative_slope);
        }
      } else {
#pragma unroll
        for (int e = 0; e < kVec; ++e) {
          const int64_t er = along_k_ ? gr : gr + e, ek = along_k_ ? gk + e : gk;
          float v = 0.0f;
          if (er < op_.rows() && ek < depth) {
            const int64_t off = er * op_.row_stride() + ek * op_.k_stride();
            v = op_.data()[off];
            if constexpr (Grad != Activation::Identity) {
              v *= activation_grad_from_output<Grad>(op_.y()[off], negative_slope);
            }
          }
          out[e] = v;
        }
      }
    }
  }

  __device__ __forceinline__ void store(Tile& tile) const {
#pragma unroll
    for (int i = 0; i < kVectors; ++i) {
      int r, kk;
      place(i, &r, &kk);
      if (along_k_) {
#pragma unroll
        for (int e = 0; e < kVec; ++e) tile[kk + e][r] = v_[i * kVec + e];
      } else {
        store_vector<kVec>(&tile[kk][r], &v_[i * kVec]);
      }
    }
  }

 private:
  // The tile position (row, k) of this thread's vector i; the vector runs along k or along rows.
  __device__ __forceinline__ void place(int i, int* r, int* kk) const {
    const int idx = static_cast<int>(threadIdx.x) + i * Threads;
    if (along_k_) {
      *r = idx / (Depth / kVec);
      *kk = idx % (Depth / kVec) * kVec;
    } else {
      *kk = idx / (Rows / kVec);
      *r = idx % (Rows / kVec) * kVec;
    }
  }

  Operand<S> op_;
  int64_t row0_;
  bool along_k_;
  bool vectors_;
  float v_[kPerThread];
};

}  // namespace pyaae
