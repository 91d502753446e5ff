// Portable GEMM back end: plain C++ the compiler vectorizes for the baseline ISA. It runs on any
// processor, and on x86-64 when AVX2+FMA is missing or PYAAE_SIMD=generic asks for it.
#define PYAAE_GEMM_NAMESPACE generic_isa
#include "gemm_driver.h"

namespace pyaae::cpu {
namespace generic_isa {
namespace {

struct PortableKernel {
  static constexpr int MR = 4;
  static constexpr int NR = 8;
  static constexpr int64_t MC = 128;
  static constexpr int64_t KC = 256;
  static constexpr int64_t NC = 2048;

  template <bool Accumulate, bool Last, Activation Act>
  static void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                    const float* bias, float negative_slope) {
    float acc[MR][NR] = {};
    for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
      for (int r = 0; r < MR; ++r) {
        for (int j = 0; j < NR; ++j) acc[r][j] += a[r] * b[j];
      }
    }
    for (int r = 0; r < MR; ++r) {
      float* row = c + r * ldc;
      for (int j = 0; j < NR; ++j) {
        float v = acc[r][j];
        if constexpr (Accumulate) v += row[j];
        if constexpr (Last) v = activate<Act>(v + bias[j], negative_slope);
        row[j] = v;
      }
    }
  }

  template <Activation G, bool Sums>
  static void pack_a_panel(const GemmProblem& p, int64_t row0, int rows, int64_t p0, int64_t kc, float* out,
                           double* sums) {
    pack_a_panel_portable<MR, G, Sums>(p, row0, rows, p0, kc, out, sums);
  }

  static void pack_b(const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t nc, float* out) {
    pack_b_portable<NR>(b, rs, cs, kc, nc, out);
  }
};

}  // namespace
}  // namespace generic_isa

GemmTileFn gemm_tile_generic() { return &generic_isa::gemm_tile<generic_isa::PortableKernel>; }

}  // namespace pyaae::cpu
