// A growable, 64-byte aligned float buffer: packing workspaces that are allocated once per thread
// and reused, so the GEMM allocates nothing per call once warmed up.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace pyaae::cpu {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }

  float* reserve(std::size_t count) {
    if (count > capacity_) {
      const std::size_t bytes = ((count * sizeof(float) + 63) / 64) * 64;
      void* p = std::aligned_alloc(64, bytes);
      if (p == nullptr) throw std::bad_alloc();
      std::free(data_);
      data_ = static_cast<float*>(p);
      capacity_ = count;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace pyaae::cpu
