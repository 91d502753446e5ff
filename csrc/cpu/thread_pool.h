// A persistent pool of worker threads for the CPU kernels. Starting threads per call costs tens of
// microseconds, as much as a small layer's whole GEMM, so workers are started once and reused.
#pragma once

namespace pyaae::cpu {

// Runs task(ctx, i) for i in [0, num_tasks) on up to num_tasks threads, the caller among them,
// and returns when all are done. Concurrent callers do not share the pool: a caller that finds it
// busy runs its tasks itself.
void parallel_for(int num_tasks, void (*task)(void* ctx, int index), void* ctx);

template <class F>
void parallel_for(int num_tasks, F& f) {
  parallel_for(num_tasks, [](void* ctx, int i) { (*static_cast<F*>(ctx))(i); }, &f);
}

}  // namespace pyaae::cpu
