#include "thread_pool.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace pyaae::cpu {
namespace {

// Workers spin this long after a job before sleeping: the layers of an MLP call back-to-back, and
// waking a sleeping thread costs more than a small GEMM.
constexpr auto kSpin = std::chrono::microseconds(200);

// Tasks are claimed from one 64-bit word, job generation in the high half and next task index in
// the low half, so a worker that is late for one job can never claim a task of the next.
class ThreadPool {
 public:
  void run(int num_tasks, void (*task)(void*, int), void* ctx) {
    std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
    if (!busy.owns_lock() || num_tasks <= 1) {
      for (int i = 0; i < num_tasks; ++i) task(ctx, i);
      return;
    }
    const uint64_t generation = (claim_.load() >> 32) + 1;
    while (static_cast<int>(workers_.size()) < num_tasks - 1) {
      // A new worker waits for the job published below, however late the thread starts.
      const auto previous = static_cast<uint32_t>(generation - 1);
      workers_.emplace_back([this, previous] { worker_loop(previous); });
    }
    task_ = task;
    ctx_ = ctx;
    num_tasks_.store(num_tasks);
    pending_.store(num_tasks);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      claim_.store(generation << 32, std::memory_order_release);
    }
    wake_.notify_all();
    work(static_cast<uint32_t>(generation));
    while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  }

 private:
  void work(uint32_t generation) {
    for (;;) {
      uint64_t word = claim_.load(std::memory_order_acquire);
      if (static_cast<uint32_t>(word >> 32) != generation) return;
      const uint32_t index = static_cast<uint32_t>(word);
      if (index >= static_cast<uint32_t>(num_tasks_.load(std::memory_order_acquire))) return;
      if (!claim_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel)) continue;
      task_(ctx_, static_cast<int>(index));
      pending_.fetch_sub(1, std::memory_order_release);
    }
  }

  void worker_loop(uint32_t seen) {
    auto generation = [this] { return static_cast<uint32_t>(claim_.load(std::memory_order_acquire) >> 32); };
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      while (generation() == seen && std::chrono::steady_clock::now() < spin_until) {
      }
      if (generation() == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation() != seen; });
      }
      seen = generation();
      work(seen);
    }
  }

  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;      // pairs with wake_ so that no wake-up is lost
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> num_tasks_{0};
  std::atomic<int> pending_{0};
  void (*task_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
};

// Never destroyed: joining threads from a static destructor at interpreter exit can deadlock.
ThreadPool* instance = nullptr;

void renew_after_fork() {
  // The child has none of the parent's worker threads; it starts a fresh pool (the old one leaks).
  instance = new ThreadPool();
}

ThreadPool& pool() {
  static std::once_flag once;
  std::call_once(once, [] {
    instance = new ThreadPool();
    pthread_atfork(nullptr, nullptr, renew_after_fork);
  });
  return *instance;
}

}  // namespace

void parallel_for(int num_tasks, void (*task)(void*, int), void* ctx) {
  pool().run(num_tasks, task, ctx);
}

}  // namespace pyaae::cpu
