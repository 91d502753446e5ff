#include "pyaae/cpu_features.h"

#include <atomic>
#include <stdexcept>

namespace pyaae {
namespace {

bool processor_has_avx2_fma() {
#if defined(PYAAE_HAVE_AVX2) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__i386__))
  // __builtin_cpu_supports also checks that the OS saves the YMM registers.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

SimdLevel best_level() {
  static const SimdLevel best = processor_has_avx2_fma() ? SimdLevel::Avx2 : SimdLevel::Generic;
  return best;
}

std::atomic<int>& chosen_level() {
  static std::atomic<int> level{static_cast<int>(best_level())};
  return level;
}

}  // namespace

std::vector<SimdLevel> supported_simd_levels() {
  std::vector<SimdLevel> levels{SimdLevel::Generic};
  if (best_level() == SimdLevel::Avx2) levels.push_back(SimdLevel::Avx2);
  return levels;
}

SimdLevel current_simd_level() { return static_cast<SimdLevel>(chosen_level().load()); }

void set_simd_level(const std::string& level) {
  SimdLevel chosen;
  if (level == "auto") {
    chosen = best_level();
  } else if (level == "generic") {
    chosen = SimdLevel::Generic;
  } else if (level == "avx2") {
    if (best_level() != SimdLevel::Avx2) {
      throw std::invalid_argument(
          "SIMD level 'avx2' is not available: this build or this processor lacks AVX2+FMA");
    }
    chosen = SimdLevel::Avx2;
  } else {
    throw std::invalid_argument("unknown SIMD level '" + level +
                                "': expected 'auto', 'generic' or 'avx2'");
  }
  chosen_level().store(static_cast<int>(chosen));
}

const char* simd_level_name(SimdLevel level) {
  return level == SimdLevel::Avx2 ? "avx2" : "generic";
}

}  // namespace pyaae
