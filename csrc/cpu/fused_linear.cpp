// CPU fused linear layer: maps the forward and backward passes onto GemmProblems and runs them on
// the SIMD back end chosen at run time, split over threads.
#include "pyaae/fused_linear.h"

#include <algorithm>

#include "gemm.h"
#include "narrow_forward.h"
#include "pyaae/gemm_problem.h"
#include "pyaae/cpu_features.h"
#include "parallel.h"

namespace pyaae {
namespace {

using cpu::GemmProblem;

cpu::GemmTileFn current_gemm() {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::gemm_tile_avx2();
#endif
  return cpu::gemm_tile_generic();
}

cpu::NarrowForwardFn current_narrow_forward() {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::narrow_forward_avx2();
#endif
  return cpu::narrow_forward_generic();
}

// Each thread gets at least this many flops: below about 0.25 MFLOP a second thread (waking it,
// packing A twice) costs as much as it saves (measured on a 2-core Zen 3: 0.26 MFLOP 5.7 us on one
// or two threads, 0.52 MFLOP 8.6 us on one and 6.7 us on two).
constexpr double kMinFlopsPerThread = 0.25e6;
// Thread slices are multiples of these, so that no register tile (16 or 8 columns, 6 or 4 rows) is
// split between threads, while slices stay fine enough to balance the threads' work.
constexpr int64_t kColumnAlign = 16;
constexpr int64_t kRowAlign = 12;

// Threads worth waking for a pass of `flops` split into `slices` pieces.
int64_t worth_threads(double flops, int64_t slices, int num_threads) {
  const int64_t threads = std::min<int64_t>(num_threads, static_cast<int64_t>(flops / kMinFlopsPerThread));
  return std::max<int64_t>(1, std::min(threads, slices));
}

// C = epilogue(0) for an empty reduction: what nn.Linear gives for in_features == 0, and a zero
// weight gradient (with zero bias gradient) for an empty batch.
void gemm_empty_reduction(const GemmProblem& p) {
  dispatch_activation(p.activation, [&](auto a) {
    constexpr Activation A = decltype(a)::value;
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t j = 0; j < p.n; ++j) {
        p.c[i * p.ldc + j] = activate<A>(p.bias != nullptr ? p.bias[j] : 0.0f, p.negative_slope);
      }
    }
  });
  if (p.row_sums != nullptr) std::fill(p.row_sums, p.row_sums + p.m, 0.0f);
}

void run_gemm(const GemmProblem& p, int num_threads) {
  if (p.m == 0 || p.n == 0) return;
  if (p.k == 0) {
    gemm_empty_reduction(p);
    return;
  }
  const cpu::GemmTileFn tile = current_gemm();
  const double flops = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k);
  const bool split_columns = p.n >= p.m;
  const int64_t extent = split_columns ? p.n : p.m;
  const int64_t align = split_columns ? kColumnAlign : kRowAlign;
  const int64_t slices = (extent + align - 1) / align;
  const int64_t threads = worth_threads(flops, slices, num_threads);
  if (threads == 1) {
    tile(p, 0, p.m, 0, p.n);
    return;
  }
  auto task = [&](int t) {
    const int64_t begin = std::min(extent, slices * t / threads * align);
    const int64_t end = std::min(extent, slices * (t + 1) / threads * align);
    if (begin >= end) return;
    if (split_columns) {
      tile(p, 0, p.m, begin, end);
    } else {
      tile(p, begin, end, 0, p.n);
    }
  };
  cpu::parallel_for(static_cast<int>(threads), task);
}

// grad_bias alone (no weight gradient wanted, or no input features to carry it): sum over the
// batch of grad_y * act'(y), accumulated in double like the fused path.
void bias_grad_only(const LinearBackwardArgs& g) {
  dispatch_activation(g.activation, [&](auto a) {
    constexpr Activation A = decltype(a)::value;
    for (int64_t o = 0; o < g.out_features; ++o) {
      double sum = 0.0;
      for (int64_t i = 0; i < g.batch; ++i) {
        const int64_t off = i * g.out_features + o;
        float v = g.grad_y[off];
        if constexpr (A != Activation::Identity) v *= activation_grad_from_output<A>(g.y[off], g.negative_slope);
        sum += v;
      }
      g.grad_bias[o] = static_cast<float>(sum);
    }
  });
}

// The forward pass of a layer at most kNarrowMaxOut wide, rows split over threads in slices of
// kRowAlign (a multiple of every row block of the narrow kernels).
void run_narrow_forward(const LinearForwardArgs& f) {
  const cpu::NarrowForwardFn rows = current_narrow_forward();
  const double flops = 2.0 * static_cast<double>(f.batch) * static_cast<double>(f.out_features) *
                       static_cast<double>(f.in_features);
  const int64_t slices = (f.batch + kRowAlign - 1) / kRowAlign;
  const int64_t threads = worth_threads(flops, slices, f.num_threads);
  if (threads == 1) {
    rows(f, 0, f.batch);
    return;
  }
  cpu::parallel_for(static_cast<int>(threads), [&](int t) {
    const int64_t begin = std::min(f.batch, slices * t / threads * kRowAlign);
    const int64_t end = std::min(f.batch, slices * (t + 1) / threads * kRowAlign);
    if (begin < end) rows(f, begin, end);
  });
}

}  // namespace

void linear_forward_cpu(const LinearForwardArgs& f) {
  if (f.batch > 0 && f.in_features > 0 && f.out_features > 0 && f.out_features <= cpu::kNarrowMaxOut) {
    run_narrow_forward(f);
  } else {
    run_gemm(forward_problem(f), f.num_threads);
  }
}

void linear_backward_cpu(const LinearBackwardArgs& g) {
  // G = grad_y * act'(y) is never stored: both GEMMs form it while packing their A operand.
  if (g.grad_x != nullptr) run_gemm(grad_x_problem(g), g.num_threads);
  const bool fused_bias = g.grad_weight != nullptr && g.in_features > 0;
  if (g.grad_weight != nullptr) run_gemm(grad_weight_problem(g, fused_bias), g.num_threads);
  if (g.grad_bias != nullptr && !fused_bias) bias_grad_only(g);
}

}  // namespace pyaae
