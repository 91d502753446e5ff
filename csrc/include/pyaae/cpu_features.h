// Which SIMD path the CPU kernels take, chosen at run time.
#pragma once

#include <string>
#include <vector>

namespace pyaae {

enum class SimdLevel : int { Generic = 0, Avx2 = 1 };

// Levels this build contains and this processor (and OS) can run, best last.
std::vector<SimdLevel> supported_simd_levels();
// The level the kernels use now: the best supported one unless set_simd_level chose another.
SimdLevel current_simd_level();
// "auto", "generic" or "avx2"; throws std::invalid_argument for an unknown or unsupported level.
void set_simd_level(const std::string& level);
const char* simd_level_name(SimdLevel level);

}  // namespace pyaae
