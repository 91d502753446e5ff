// Machine ceilings measured by the extension itself, for benchmarks to report against.
#pragma once

namespace pyaae {

// Peak float32 FMA throughput in GFLOP/s: a register-only loop of independent FMA chains on
// num_threads threads for about `seconds`, with the current SIMD level.
double fma_peak_gflops(int num_threads, double seconds);

}  // namespace pyaae
