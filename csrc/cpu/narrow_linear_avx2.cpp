// AVX2+FMA narrow-layer kernels (see narrow_linear.h). Each kernel works on a block of rows (or of
// 8-column chunks) at once, sized so that at least four FMA chains are in flight and the
// accumulators, the streamed vectors and one shared vector fit the 16 registers; each load of the
// narrow operand then serves the whole block. Ragged ends of rows use masked loads and stores.
// Compiled with -mavx2 -mfma; called only after CPUID confirms them.
#include <immintrin.h>

#include "narrow_linear.h"

namespace pyaae::cpu {
namespace {

// Rows (or chunks) per block for a layer O wide: up to 8 accumulators.
template <int O>
constexpr int kBlock = O <= 2 ? 4 : O <= 4 ? 2 : 1;

// Lanes [0, count % 8) set, or all of them when count is a multiple of 8.
inline __m256i tail_mask(int64_t count) {
  const int tail = static_cast<int>(count % 8);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(tail == 0 ? 8 : tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// ((0+4)+(2+6))+((1+5)+(3+7)), the order the portable back end adds its lanes in.
inline float lane_sum(__m256 v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l + (l+4)
  const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));                      // (0,2), (1,3)
  return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 0x55)));
}

// Calls f(std::integral_constant<int, O>{}) for the run-time width out (1 to 8).
template <class F>
void dispatch_width(int64_t out, F&& f) {
  switch (out) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    default: return f(std::integral_constant<int, 8>{});
  }
}

// y rows [i, i + RB): dot products of x's rows with W's O rows.
template <Activation A, int O, int RB>
void forward_block(const LinearForwardArgs& f, int64_t i, __m256i mask) {
  const int64_t k = f.in_features;
  const float* x = f.x + i * k;
  __m256 acc[RB][O];
  for (int r = 0; r < RB; ++r) {
    for (int o = 0; o < O; ++o) acc[r][o] = _mm256_setzero_ps();
  }
  auto step = [&](int64_t p, auto load) {
    __m256 xv[RB];
    for (int r = 0; r < RB; ++r) xv[r] = load(x + r * k + p);
    for (int o = 0; o < O; ++o) {
      const __m256 wv = load(f.weight + o * k + p);
      for (int r = 0; r < RB; ++r) acc[r][o] = _mm256_fmadd_ps(xv[r], wv, acc[r][o]);
    }
  };
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) step(p, [](const float* s) { return _mm256_loadu_ps(s); });
  if (p < k) step(p, [mask](const float* s) { return _mm256_maskload_ps(s, mask); });
  for (int r = 0; r < RB; ++r) {
    for (int o = 0; o < O; ++o) {
      f.y[(i + r) * O + o] =
          activate<A>(lane_sum(acc[r][o]) + (f.bias != nullptr ? f.bias[o] : 0.0f), f.negative_slope);
    }
  }
}

void forward(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
  const __m256i mask = tail_mask(f.in_features);
  dispatch_activation(f.activation, [&](auto a) {
    dispatch_width(f.out_features, [&](auto width) {
      constexpr Activation A = decltype(a)::value;
      constexpr int O = decltype(width)::value;
      int64_t i = row0;
      for (; i + kBlock<O> <= row1; i += kBlock<O>) forward_block<A, O, kBlock<O>>(f, i, mask);
      for (; i < row1; ++i) forward_block<A, O, 1>(f, i, mask);
    });
  });
}

// grad_x rows [i, i + RB) over every column: sum over o of G[row, o] W[o, :].
template <int O, int RB>
void grad_x_block(const LinearBackwardArgs& g, const float* gy, int64_t i, __m256i mask) {
  const int64_t k = g.in_features;
  __m256 gb[RB][O];
  for (int r = 0; r < RB; ++r) {
    for (int o = 0; o < O; ++o) gb[r][o] = _mm256_broadcast_ss(gy + (i + r) * O + o);
  }
  auto chunk = [&](int64_t c, auto load, auto store) {
    __m256 acc[RB];
    const __m256 w0 = load(g.weight + c);
    for (int r = 0; r < RB; ++r) acc[r] = _mm256_mul_ps(gb[r][0], w0);
    for (int o = 1; o < O; ++o) {
      const __m256 wv = load(g.weight + o * k + c);
      for (int r = 0; r < RB; ++r) acc[r] = _mm256_fmadd_ps(gb[r][o], wv, acc[r]);
    }
    for (int r = 0; r < RB; ++r) store(g.grad_x + (i + r) * k + c, acc[r]);
  };
  int64_t c = 0;
  for (; c + 8 <= k; c += 8) {
    chunk(c, [](const float* s) { return _mm256_loadu_ps(s); }, [](float* d, __m256 v) { _mm256_storeu_ps(d, v); });
  }
  if (c < k) {
    chunk(c, [mask](const float* s) { return _mm256_maskload_ps(s, mask); },
          [mask](float* d, __m256 v) { _mm256_maskstore_ps(d, mask, v); });
  }
}

void grad_x(const LinearBackwardArgs& g, const float* gy, int64_t row0, int64_t row1) {
  const __m256i mask = tail_mask(g.in_features);
  dispatch_width(g.out_features, [&](auto width) {
    constexpr int O = decltype(width)::value;
    // G's broadcasts take RB * O registers: two rows at most.
    constexpr int RB = O <= 2 ? 2 : 1;
    int64_t i = row0;
    for (; i + RB <= row1; i += RB) grad_x_block<O, RB>(g, gy, i, mask);
    for (; i < row1; ++i) grad_x_block<O, 1>(g, gy, i, mask);
  });
}

// grad_weight columns [c, c + 8 CB) (the last chunk masked when `masked`): sums over the batch of
// G[i, o] x[i, :].
template <int O, int CB, bool Masked>
void grad_weight_block(const LinearBackwardArgs& g, const float* gy, int64_t c, __m256i mask) {
  const int64_t k = g.in_features;
  __m256 acc[CB][O];
  for (int b = 0; b < CB; ++b) {
    for (int o = 0; o < O; ++o) acc[b][o] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < g.batch; ++i) {
    const float* x = g.x + i * k + c;
    __m256 xv[CB];
    for (int b = 0; b < CB; ++b) {
      xv[b] = Masked && b == CB - 1 ? _mm256_maskload_ps(x + 8 * b, mask) : _mm256_loadu_ps(x + 8 * b);
    }
    for (int o = 0; o < O; ++o) {
      const __m256 go = _mm256_broadcast_ss(gy + i * O + o);
      for (int b = 0; b < CB; ++b) acc[b][o] = _mm256_fmadd_ps(go, xv[b], acc[b][o]);
    }
  }
  for (int o = 0; o < O; ++o) {
    float* out = g.grad_weight + o * k + c;
    for (int b = 0; b < CB; ++b) {
      if (Masked && b == CB - 1) {
        _mm256_maskstore_ps(out + 8 * b, mask, acc[b][o]);
      } else {
        _mm256_storeu_ps(out + 8 * b, acc[b][o]);
      }
    }
  }
}

void grad_weight(const LinearBackwardArgs& g, const float* gy, int64_t col0, int64_t col1) {
  const __m256i mask = tail_mask(col1 - col0);
  dispatch_width(g.out_features, [&](auto width) {
    constexpr int O = decltype(width)::value;
    constexpr int CB = kBlock<O>;
    int64_t c = col0;
    for (; c + 8 * CB <= col1; c += 8 * CB) grad_weight_block<O, CB, false>(g, gy, c, mask);
    for (; c + 8 <= col1; c += 8) grad_weight_block<O, 1, false>(g, gy, c, mask);
    if (c < col1) grad_weight_block<O, 1, true>(g, gy, c, mask);
  });
}

}  // namespace

NarrowKernels narrow_kernels_avx2() { return {forward, grad_x, grad_weight}; }

}  // namespace pyaae::cpu
