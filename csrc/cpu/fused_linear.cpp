// CPU fused linear layer: maps the forward and backward passes onto GemmProblems (or, for layers at
// most kNarrowMaxOut wide, onto the narrow-layer kernels) and runs them on the SIMD back end chosen
// at run time, split over threads.
#include "pyaae/fused_linear.h"

#include <algorithm>
#include <vector>

#include "dropout_mask.h"
#include "gemm.h"
#include "narrow_linear.h"
#include "parallel.h"
#include "pyaae/cpu_features.h"
#include "pyaae/gemm_problem.h"

namespace pyaae {
namespace {

using cpu::GemmProblem;

cpu::GemmTileFn current_gemm() {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::gemm_tile_avx2();
#endif
  return cpu::gemm_tile_generic();
}

cpu::NarrowKernels current_narrow() {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::narrow_kernels_avx2();
#endif
  return cpu::narrow_kernels_generic();
}

// Each thread gets at least this many flops: below about 0.25 MFLOP a second thread (waking it,
// packing A twice) costs as much as it saves (measured on a 2-core Zen 3: 0.26 MFLOP 5.7 us on one
// or two threads, 0.52 MFLOP 8.6 us on one and 6.7 us on two).
constexpr double kMinFlopsPerThread = 0.25e6;
// Thread slices are multiples of these, so that no register tile (16 or 8 columns, 6 or 4 rows of
// the GEMM; 4 rows or 32 columns of the narrow kernels) is split between threads, while slices stay
// fine enough to balance the threads' work.
constexpr int64_t kColumnAlign = 16;
constexpr int64_t kRowAlign = 12;
constexpr int64_t kNarrowColumnAlign = 32;

double product_flops(int64_t m, int64_t n, int64_t k) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
}

// Runs f(begin, end) over [0, extent) cut into align-sized slices, on as many threads (up to
// num_threads) as `flops` of work are worth.
template <class F>
void split_over_threads(int64_t extent, int64_t align, double flops, int num_threads, const F& f) {
  const int64_t slices = (extent + align - 1) / align;
  int64_t threads = std::min<int64_t>(num_threads, static_cast<int64_t>(flops / kMinFlopsPerThread));
  threads = std::max<int64_t>(1, std::min(threads, slices));
  if (threads == 1) {
    f(int64_t{0}, extent);
    return;
  }
  cpu::parallel_for(static_cast<int>(threads), [&](int t) {
    const int64_t begin = std::min(extent, slices * t / threads * align);
    const int64_t end = std::min(extent, slices * (t + 1) / threads * align);
    if (begin < end) f(begin, end);
  });
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

cpu::DropoutRowFn current_dropout_row() {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::dropout_row_avx2;
#endif
  return cpu::dropout_row_generic;
}

// The dropout factors of columns [c0, c1) of a row, in a buffer of the calling thread's.
const float* row_factors(cpu::DropoutRowFn fn, const Dropout& d, int64_t row, int64_t c0, int64_t c1) {
  thread_local std::vector<float> factors;
  factors.resize(static_cast<size_t>(c1 - c0));
  fn(d, row, c0, c1, factors.data());
  return factors.data();
}

// Multiplies rows [r0, r1), columns [c0, c1) of c (leading dimension ldc) by their dropout factors:
// the epilogue of a forward slice, run by the thread that computed the slice while it is in cache.
void apply_dropout(const Dropout& d, float* c, int64_t ldc, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  if (!dropout_active(d) || c0 >= c1) return;
  const cpu::DropoutRowFn fn = current_dropout_row();
  for (int64_t r = r0; r < r1; ++r) {
    const float* factors = row_factors(fn, d, r, c0, c1);
    float* row = c + r * ldc;
    for (int64_t col = c0; col < c1; ++col) row[col] *= factors[col - c0];
  }
}

// Runs p; a forward problem also takes its dropout (inactive for the backward GEMMs).
void run_gemm(const GemmProblem& p, int num_threads, const Dropout& dropout = Dropout{}) {
  if (p.m == 0 || p.n == 0) return;
  if (p.k == 0) {
    gemm_empty_reduction(p);
    apply_dropout(dropout, p.c, p.ldc, 0, p.m, 0, p.n);
    return;
  }
  const cpu::GemmTileFn tile = current_gemm();
  const double flops = product_flops(p.m, p.n, p.k);
  if (p.n >= p.m) {
    split_over_threads(p.n, kColumnAlign, flops, num_threads, [&](int64_t b, int64_t e) {
      tile(p, 0, p.m, b, e);
      apply_dropout(dropout, p.c, p.ldc, 0, p.m, b, e);
    });
  } else {
    split_over_threads(p.m, kRowAlign, flops, num_threads, [&](int64_t b, int64_t e) {
      tile(p, b, e, 0, p.n);
      apply_dropout(dropout, p.c, p.ldc, b, e, 0, p.n);
    });
  }
}

// A Philox block costs about as much as this many flops of GEMM, for the thread split of mask passes.
constexpr double kFlopsPerMaskElement = 16.0;

// g.dropout_scratch = G = dL/d(pre-activation) through the dropout mask and the activation; returns
// the arguments of the same backward pass with G as its gradient and neither dropout nor activation.
LinearBackwardArgs form_dropout_grad(const LinearBackwardArgs& g) {
  const Dropout& d = g.dropout;
  const cpu::DropoutRowFn fn = current_dropout_row();
  dispatch_activation(g.activation, [&](auto a) {
    constexpr Activation A = decltype(a)::value;
    const double flops = kFlopsPerMaskElement * static_cast<double>(g.batch) * static_cast<double>(g.out_features);
    split_over_threads(g.batch, kRowAlign, flops, g.num_threads, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* factors = row_factors(fn, d, r, 0, g.out_features);
        const int64_t row = r * g.out_features;
        for (int64_t col = 0; col < g.out_features; ++col) {
          g.dropout_scratch[row + col] =
              dropout_grad<A>(g.grad_y[row + col], g.y[row + col], factors[col], d.p, g.negative_slope);
        }
      }
    });
  });
  return after_dropout_grad(g);
}

// grad_bias: sum over the batch of grad_y * act'(y), accumulated in double like the fused GEMM path.
void bias_grad(const LinearBackwardArgs& g) {
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

// Whether a layer of this shape goes to the narrow kernels (empty shapes stay with the GEMM path,
// which handles them).
bool is_narrow(int64_t batch, int64_t in_features, int64_t out_features) {
  return batch > 0 && in_features > 0 && out_features > 0 && out_features <= cpu::kNarrowMaxOut;
}

void narrow_backward(const LinearBackwardArgs& g) {
  const cpu::NarrowKernels narrow = current_narrow();
  // G = grad_y * act'(y), [batch, out]: small enough to form once.
  std::vector<float> formed;
  const float* gy = g.grad_y;
  if (g.activation != Activation::Identity && (g.grad_x != nullptr || g.grad_weight != nullptr)) {
    formed.resize(static_cast<size_t>(g.batch * g.out_features));
    dispatch_activation(g.activation, [&](auto a) {
      constexpr Activation A = decltype(a)::value;
      for (size_t j = 0; j < formed.size(); ++j) {
        formed[j] = g.grad_y[j] * activation_grad_from_output<A>(g.y[j], g.negative_slope);
      }
    });
    gy = formed.data();
  }
  const double flops = product_flops(g.batch, g.in_features, g.out_features);
  if (g.grad_x != nullptr) {
    split_over_threads(g.batch, kRowAlign, flops, g.num_threads,
                       [&](int64_t b, int64_t e) { narrow.grad_x(g, gy, b, e); });
  }
  if (g.grad_weight != nullptr) {
    split_over_threads(g.in_features, kNarrowColumnAlign, flops, g.num_threads,
                       [&](int64_t b, int64_t e) { narrow.grad_weight(g, gy, b, e); });
  }
  if (g.grad_bias != nullptr) bias_grad(g);
}

}  // namespace

void linear_forward_cpu(const LinearForwardArgs& f) {
  if (!is_narrow(f.batch, f.in_features, f.out_features)) {
    run_gemm(forward_problem(f), f.num_threads, f.dropout);
    return;
  }
  const cpu::NarrowKernels narrow = current_narrow();
  split_over_threads(f.batch, kRowAlign, product_flops(f.batch, f.in_features, f.out_features), f.num_threads,
                     [&](int64_t b, int64_t e) {
                       narrow.forward(f, b, e);
                       apply_dropout(f.dropout, f.y, f.out_features, b, e, 0, f.out_features);
                     });
}

void linear_backward_cpu(const LinearBackwardArgs& g) {
  if (dropout_active(g.dropout) && g.batch > 0 && g.out_features > 0) {
    linear_backward_cpu(form_dropout_grad(g));
    return;
  }
  if (is_narrow(g.batch, g.in_features, g.out_features)) {
    narrow_backward(g);
    return;
  }
  // G = grad_y * act'(y) is never stored: both GEMMs form it while packing their A operand.
  if (g.grad_x != nullptr) run_gemm(grad_x_problem(g), g.num_threads);
  const bool fused_bias = g.grad_weight != nullptr && g.in_features > 0;
  if (g.grad_weight != nullptr) run_gemm(grad_weight_problem(g, fused_bias), g.num_threads);
  if (g.grad_bias != nullptr && !fused_bias) bias_grad(g);
}

}  // namespace pyaae
