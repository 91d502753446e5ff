// The blocked GEMM loop nest (Goto/BLIS order: columns of C by NC, depth by KC, rows by MC, then
// NR x MR register tiles), written once and instantiated by each SIMD back end with its own
// micro-kernel and blocking. Each back end includes this header inside its own namespace
// (PYAAE_GEMM_NAMESPACE) so instantiations compiled with different ISA flags never merge.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "aligned_buffer.h"
#include "gemm.h"

namespace pyaae::cpu::PYAAE_GEMM_NAMESPACE {

// Scalar packing of B [kc, nc] into NR-wide column panels, zero-padded: the portable path, and the
// fallback of the vectorized packers for layouts they do not cover.
template <int NR>
void pack_b_portable(const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, float* out) {
  for (int64_t jr = 0; jr < nc; jr += NR, out += kc * NR) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
    if (cols < NR) std::memset(out, 0, sizeof(float) * kc * NR);
    if (cs == 1) {
      for (int64_t kk = 0; kk < kc; ++kk) std::memcpy(out + kk * NR, b + kk * rs + jr, sizeof(float) * cols);
    } else {
      for (int j = 0; j < cols; ++j) {
        const float* src = b + (jr + j) * cs;
        for (int64_t kk = 0; kk < kc; ++kk) out[kk * NR + j] = src[kk * rs];
      }
    }
  }
}

// Packs one MR-tall panel of A (rows [row0, row0 + rows), depth [p0, p0 + kc)) k-major, zero-padded,
// multiplying by the activation gradient when G is not Identity and adding each row's sum to
// sums[r] when Sums. The portable path, and the fallback of the vectorized packers.
template <int MR, Activation G, bool Sums>
void pack_a_panel_portable(const GemmProblem& p, int64_t row0, int rows, int64_t p0, int64_t kc,
                           float* out, double* sums) {
  const int64_t rs = p.a_row_stride, cs = p.a_col_stride;
  if (rows < MR) std::memset(out, 0, sizeof(float) * kc * MR);
  double acc[MR] = {};
  for (int r = 0; r < rows; ++r) {
    const int64_t base = (row0 + r) * rs + p0 * cs;
    for (int64_t kk = 0; kk < kc; ++kk) {
      const int64_t off = base + kk * cs;
      float v = p.a[off];
      if constexpr (G != Activation::Identity) v *= activation_grad_from_output<G>(p.a_y[off], p.negative_slope);
      if constexpr (Sums) acc[r] += v;
      out[kk * MR + r] = v;
    }
  }
  if constexpr (Sums) {
    for (int r = 0; r < rows; ++r) sums[r] += acc[r];
  }
}

// Packs A [mc, kc] from row i0 and depth p0 into MR-tall panels with Kernel::pack_a_panel.
template <class Kernel, Activation G>
void pack_a(const GemmProblem& p, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out, double* sums) {
  constexpr int MR = Kernel::MR;
  for (int64_t ir = 0; ir < mc; ir += MR, out += kc * MR) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ir));
    if (sums != nullptr) {
      Kernel::template pack_a_panel<G, true>(p, i0 + ir, rows, p0, kc, out, sums + ir);
    } else {
      Kernel::template pack_a_panel<G, false>(p, i0 + ir, rows, p0, kc, out, nullptr);
    }
  }
}

using MicroFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                         const float* bias, float negative_slope);

// Kernel provides MR, NR, MC, KC, NC, micro<Accumulate, Last, Act> (a full MR x NR tile: C = A B,
// or C += A B when Accumulate; then C = act(C + bias) when Last), pack_a_panel and pack_b.
template <class Kernel>
MicroFn select_micro(bool accumulate, bool last, Activation act) {
  if (!last) {
    return accumulate ? &Kernel::template micro<true, false, Activation::Identity>
                      : &Kernel::template micro<false, false, Activation::Identity>;
  }
  return dispatch_activation(act, [&](auto a) -> MicroFn {
    constexpr Activation A = decltype(a)::value;
    return accumulate ? &Kernel::template micro<true, true, A> : &Kernel::template micro<false, true, A>;
  });
}

template <class Kernel>
void gemm_tile(const GemmProblem& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  constexpr int MR = Kernel::MR, NR = Kernel::NR;
  thread_local AlignedBuffer a_buffer, b_buffer;
  thread_local std::vector<double> sums;
  const bool want_sums = p.row_sums != nullptr && n0 == 0;
  if (want_sums) sums.assign(static_cast<size_t>(m1 - m0), 0.0);
  const int64_t nc_max = std::min<int64_t>(Kernel::NC, n1 - n0);
  // Slack past the end: vectorized packers may store a few floats beyond the last panel.
  float* packed_a = a_buffer.reserve(Kernel::MC * Kernel::KC + 16);
  float* packed_b = b_buffer.reserve(Kernel::KC * ((nc_max + NR - 1) / NR) * NR);
  alignas(64) float tile[MR * NR] = {};
  alignas(64) float tile_bias[NR];
  static const float zeros[NR] = {};

  for (int64_t jc = n0; jc < n1; jc += Kernel::NC) {
    const int64_t nc = std::min<int64_t>(Kernel::NC, n1 - jc);
    for (int64_t pc = 0; pc < p.k; pc += Kernel::KC) {
      const int64_t kc = std::min<int64_t>(Kernel::KC, p.k - pc);
      const bool last = pc + kc == p.k;
      const MicroFn micro = select_micro<Kernel>(pc > 0, last, p.activation);
      Kernel::pack_b(p.b + pc * p.b_row_stride + jc * p.b_col_stride, p.b_row_stride, p.b_col_stride,
                     kc, nc, packed_b);
      for (int64_t ic = m0; ic < m1; ic += Kernel::MC) {
        const int64_t mc = std::min<int64_t>(Kernel::MC, m1 - ic);
        double* row_sums = want_sums && jc == n0 ? sums.data() + (ic - m0) : nullptr;
        dispatch_activation(p.a_grad_activation, [&](auto g) {
          pack_a<Kernel, decltype(g)::value>(p, ic, mc, pc, kc, packed_a, row_sums);
        });
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jr));
          const int64_t col = jc + jr;
          const float* bias = zeros;
          if (p.bias != nullptr && last) {
            if (cols == NR) {
              bias = p.bias + col;
            } else {
              std::memcpy(tile_bias, p.bias + col, sizeof(float) * cols);
              std::fill(tile_bias + cols, tile_bias + NR, 0.0f);
              bias = tile_bias;
            }
          }
          const float* b_panel = packed_b + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ir));
            float* c = p.c + (ic + ir) * p.ldc + col;
            const float* a_panel = packed_a + ir * kc;
            if (rows == MR && cols == NR) {
              micro(kc, a_panel, b_panel, c, p.ldc, bias, p.negative_slope);
              continue;
            }
            // Edge tile: run the full-size kernel on a scratch tile, then copy the valid part.
            if (pc > 0) {
              for (int r = 0; r < rows; ++r) std::memcpy(tile + r * NR, c + r * p.ldc, sizeof(float) * cols);
            }
            micro(kc, a_panel, b_panel, tile, NR, bias, p.negative_slope);
            for (int r = 0; r < rows; ++r) std::memcpy(c + r * p.ldc, tile + r * NR, sizeof(float) * cols);
          }
        }
      }
    }
  }
  if (want_sums) {
    for (int64_t i = m0; i < m1; ++i) p.row_sums[i] = static_cast<float>(sums[i - m0]);
  }
}

}  // namespace pyaae::cpu::PYAAE_GEMM_NAMESPACE
