// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC11)
// and the float transforms on its output, one definition for the CPU and the CUDA kernels.
//
// Sample i of a draw takes its random words from counters (lo(i), hi(i), block, offset) under the
// key (lo(seed), hi(seed)): a value depends only on (seed, offset, i, block), never on how the work
// is split over threads, tiles or launches, so the CPU and CUDA kernels produce the same words.
#pragma once

#include <cmath>
#include <cstdint>

#include "pyaae/host_device.h"

namespace pyaae {

struct PhiloxWords {
  uint32_t w[4];
};

PYAAE_HOST_DEVICE PhiloxWords philox4x32_10(PhiloxWords ctr, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key schedule (Weyl) increments
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const uint64_t p0 = static_cast<uint64_t>(kM0) * ctr.w[0];
    const uint64_t p1 = static_cast<uint64_t>(kM1) * ctr.w[2];
    const PhiloxWords next = {{static_cast<uint32_t>(p1 >> 32) ^ ctr.w[1] ^ k0, static_cast<uint32_t>(p1),
                               static_cast<uint32_t>(p0 >> 32) ^ ctr.w[3] ^ k1, static_cast<uint32_t>(p0)}};
    ctr = next;
  }
  return ctr;
}

// The four words of block `block` of sample `sample`.
PYAAE_HOST_DEVICE PhiloxWords philox_block(uint64_t seed, uint32_t offset, uint64_t sample, uint32_t block) {
  const PhiloxWords ctr = {{static_cast<uint32_t>(sample), static_cast<uint32_t>(sample >> 32), block, offset}};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// A uniform float in [0, 1) from the word's top 24 bits (every value exactly representable).
PYAAE_HOST_DEVICE float uniform_float(uint32_t word) { return static_cast<float>(word >> 8) * 0x1.0p-24f; }

// A uniform float in (0, 1]: safe to take the logarithm of.
PYAAE_HOST_DEVICE float uniform_float_nonzero(uint32_t word) {
  return static_cast<float>((word >> 8) + 1u) * 0x1.0p-24f;
}

// Box-Muller: two independent standard normals from two words.
PYAAE_HOST_DEVICE void box_muller(uint32_t a, uint32_t b, float* z0, float* z1) {
  const float radius = sqrtf(-2.0f * logf(uniform_float_nonzero(a)));
  const float angle = 6.28318530717958647692f * uniform_float(b);
  *z0 = radius * cosf(angle);
  *z1 = radius * sinf(angle);
}

}  // namespace pyaae
