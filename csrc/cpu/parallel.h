// Threads for the CPU kernels: OpenMP. Inside PyTorch's process the extension resolves libgomp.so.1
// to the copy PyTorch already loaded, so pyaae and PyTorch share one set of worker threads.
// (A private pool measured 1.6x slower: PyTorch's idle OpenMP workers spin for a while after each of
// its ops and fought the pool's threads for the same cores.)
#pragma once

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace pyaae::cpu {

// Runs f(i) for i in [0, num_tasks), one task per thread, the caller among them; should OpenMP
// grant fewer threads than asked for, each takes several tasks.
template <class F>
void parallel_for(int num_tasks, const F& f) {
#if defined(_OPENMP)
  if (num_tasks > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(num_tasks)
    for (int i = omp_get_thread_num(); i < num_tasks; i += omp_get_num_threads()) f(i);
    return;
  }
#endif
  for (int i = 0; i < num_tasks; ++i) f(i);
}

}  // namespace pyaae::cpu
